import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causal-lm';
import { Rng } from '../model/rng';
import type { TrainingConfig } from './config';
import { disposeGradients, lossAndGradients } from './gradients';
import { grpoLoss, readLossStats, type GrpoLossStats } from './loss';
import type { AdamW } from './optimizer';
import type { Rollout } from './rollout';
import { completionLogprobs, selectRows } from './sequence-batch';

/** What one iteration's updates did, as means over its minibatches (token-weighted). */
export interface UpdateSummary {
  loss: number;
  kl: number;
  ratioMean: number;
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  gradNorm: number; // mean pre-clip norm of the applied steps
  steps: number; // optimizer steps applied
  skipped: number; // steps skipped for NaN/Inf
  consecutiveSkipped: number; // skipped steps at the end of this iteration, in a row
  seconds: number;
}

export interface UpdateInput {
  rollout: Rollout;
  advantages: Float64Array; // one per sample
  mask: Float32Array; // [rows, C]: the rollout's completion mask, less masked truncated completions
  learningRate: number;
  klCoef: number;
  temperature: number;
  seed: number; // shuffles minibatches; per iteration, so a resumed run shuffles alike
  consecutiveSkippedBefore: number;
}

/**
 * ppo_epochs passes over the rollout in shuffled minibatches. Each minibatch recomputes the
 * current policy's log-probabilities, so from the second step on the ratio to the rollout
 * policy is real, and takes one AdamW step.
 */
export async function updatePolicy(model: CausalLM, optimizer: AdamW, config: TrainingConfig, u: UpdateInput): Promise<UpdateSummary> {
  const started = performance.now();
  const { batch, oldLogprobs, refLogprobs } = u.rollout;
  const c = batch.completionLength;
  const rows = batch.rows;
  let batchTokens = 0;
  for (const m of u.mask) batchTokens += m;
  const rng = Rng.derive(u.seed, 0x5eed);
  const totals = { loss: 0, kl: 0, ratio: 0, clipLow: 0, clipHigh: 0, clipRegion: 0, tokens: 0, gradNorm: 0 };
  let steps = 0;
  let skipped = 0;
  let consecutive = u.consecutiveSkippedBefore;
  const useRef = u.klCoef > 0 && refLogprobs !== undefined;

  for (let epoch = 0; epoch < config.ppo_epochs; epoch++) {
    const order = rng.permutation(rows);
    for (let start = 0; start < rows; start += config.minibatch_size) {
      const pick = order.slice(start, start + config.minibatch_size);
      const sub = selectRows(batch, pick);
      const gather = (values: Float32Array) => {
        const out = new Float32Array(pick.length * c);
        pick.forEach((r, i) => out.set(values.subarray(r * c, (r + 1) * c), i * c));
        return out;
      };
      let stats: GrpoLossStats | undefined;
      const g = lossAndGradients(model.params, () => {
        const out = grpoLoss(
          {
            logp: completionLogprobs(model, sub, u.temperature),
            oldLogp: tf.tensor2d(gather(oldLogprobs), [pick.length, c]),
            refLogp: useRef ? tf.tensor2d(gather(refLogprobs!), [pick.length, c]) : undefined,
            advantages: tf.tensor1d(pick.map((r) => u.advantages[r]), 'float32'),
            mask: tf.tensor2d(gather(u.mask), [pick.length, c]),
          },
          {
            lossType: config.loss_type,
            epsilonLow: config.epsilon,
            epsilonHigh: config.epsilon_high,
            beta: useRef ? u.klCoef : 0,
            maxCompletionLength: config.max_new_tokens,
            batchTokenCount: batchTokens,
            batchSequenceCount: rows,
          },
        );
        stats = out.stats;
        return out.loss;
      });
      try {
        const step = await optimizer.update(g.grads, u.learningRate);
        const s = await readLossStats(stats!);
        stats = undefined; // read and disposed
        const loss = (await g.loss.data())[0];
        if (step.applied) {
          steps++;
          consecutive = 0;
          totals.gradNorm += step.gradNorm;
        } else {
          skipped++;
          consecutive++;
        }
        totals.loss += loss;
        totals.kl += s.klMean * s.activeTokens;
        totals.ratio += s.ratioMean * s.activeTokens;
        totals.clipLow += s.clipLowFraction * s.activeTokens;
        totals.clipHigh += s.clipHighFraction * s.activeTokens;
        totals.clipRegion += s.clipRegionFraction * s.activeTokens;
        totals.tokens += s.activeTokens;
      } finally {
        disposeGradients(g);
        if (stats) tf.dispose(Object.values(stats));
      }
    }
  }
  const per = (x: number) => (totals.tokens > 0 ? x / totals.tokens : 0);
  return {
    // With the batch-wide normalisers (see loss.ts) a pass's minibatch losses add up to the
    // batch loss; bnpo normalises per minibatch, so its pass sum is made a mean.
    loss: totals.loss / config.ppo_epochs / (config.loss_type === 'bnpo' ? Math.ceil(rows / config.minibatch_size) : 1),
    kl: per(totals.kl),
    ratioMean: per(totals.ratio),
    clipLow: per(totals.clipLow),
    clipHigh: per(totals.clipHigh),
    clipRegion: per(totals.clipRegion),
    gradNorm: steps > 0 ? totals.gradNorm / steps : NaN,
    steps,
    skipped,
    consecutiveSkipped: consecutive,
    seconds: (performance.now() - started) / 1000,
  };
}

