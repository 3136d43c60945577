import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causal-lm';
import { Rng } from '../model/rng';
import { disposeGradients, lossAndGradients } from './gradients';
import { AdamW, DEFAULT_ADAMW, type AdamWSettings } from './optimizer';
import type { SftExample } from './sft-examples';
import { completionLogprobs, packSequences, type SequenceBatch } from './sequence-batch';

export interface SftOptions {
  epochs: number;
  learningRate: number; // peak
  schedule: 'linear' | 'constant'; // linear: decays to 0 at the last step, as transformers' Trainer does by default
  batchSize: number; // examples per optimizer step
  seed: number; // example order
  padTokenId: number;
  optimizer?: AdamWSettings;
}

/** One optimizer step, as reported to the caller for progress lines. */
export interface SftStep {
  epoch: number; // from 1
  epochs: number;
  step: number; // from 1, over the whole run
  totalSteps: number;
  loss: number; // mean negative log-likelihood per answer token in this batch
  gradNorm: number;
  learningRate: number;
  applied: boolean; // false: the gradient was not finite and the step was skipped
  tokens: number; // real (unpadded) tokens in the batch: prompt and answer
  answerTokens: number;
  seconds: number;
}

export interface SftSummary {
  steps: number;
  skippedSteps: number;
  /** Per epoch, mean loss per answer token. */
  epochLosses: number[];
}

/** Output-head slice for SFT's batches: whole for small vocabularies, bounded for large ones. */
const SFT_VOCAB_CHUNK = 8192;

/**
 * Mean negative log-likelihood of the answer tokens (EOS included); prompt tokens are
 * context only. Averaged over all answer tokens of the batch, so a long answer weighs more
 * than a short one, as in transformers' causal-LM loss. Differentiable.
 */
export function sftLoss(model: CausalLM, batch: SequenceBatch): tf.Scalar {
  const lp = completionLogprobs(model, batch, 1, { vocabChunk: SFT_VOCAB_CHUNK }); // [rows, C]
  const mask = tf.tensor2d(batch.completionMask, [batch.rows, batch.completionLength]);
  return tf.neg(tf.div(tf.sum(tf.mul(lp, mask)), tf.sum(mask))) as tf.Scalar;
}

/** Supervised fine-tuning: `epochs` shuffled passes over `examples`, one AdamW step per batch. */
export async function trainSft(model: CausalLM, examples: SftExample[], opts: SftOptions, onStep?: (s: SftStep) => void): Promise<SftSummary> {
  const optimizer = new AdamW(model.params, opts.optimizer ?? DEFAULT_ADAMW);
  const rng = new Rng(opts.seed);
  const stepsPerEpoch = Math.ceil(examples.length / opts.batchSize);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const epochLosses: number[] = [];
  let step = 0;
  let skippedSteps = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const order = rng.permutation(examples.length);
      let lossSum = 0;
      let tokenSum = 0;
      for (let start = 0; start < order.length; start += opts.batchSize) {
        const started = performance.now();
        const picked = order.slice(start, start + opts.batchSize).map((i) => examples[i]);
        const batch = packSequences(
          picked.map((e) => e.promptIds),
          picked.map((e) => e.answerIds),
          opts.padTokenId,
        );
        const g = lossAndGradients(model.params, () => sftLoss(model, batch));
        const loss = (await g.loss.data())[0];
        const lr = opts.schedule === 'linear' ? (opts.learningRate * (totalSteps - step)) / totalSteps : opts.learningRate;
        const result = await optimizer.update(g.grads, lr);
        disposeGradients(g);
        step++;
        const answerTokens = picked.reduce((n, e) => n + e.answerIds.length, 0);
        if (result.applied) {
          lossSum += loss * answerTokens;
          tokenSum += answerTokens;
        } else {
          skippedSteps++;
        }
        onStep?.({
          epoch,
          epochs: opts.epochs,
          step,
          totalSteps,
          loss,
          gradNorm: result.gradNorm,
          learningRate: lr,
          applied: result.applied,
          tokens: picked.reduce((n, e) => n + e.promptIds.length + e.answerIds.length, 0),
          answerTokens,
          seconds: (performance.now() - started) / 1000,
        });
      }
      epochLosses.push(tokenSum > 0 ? lossSum / tokenSum : NaN);
    }
  } finally {
    optimizer.dispose();
  }
  return { steps: step, skippedSteps, epochLosses };
}

