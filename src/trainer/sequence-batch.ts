import * as tf from '@tensorflow/tfjs-core';
import { causalMask, positionsFromValid } from '../model/attention-mask';
import type { CausalLM } from '../model/causal-lm';
import { chunkedHeadLogprobs } from '../model/chunked-head';

/**
 * Prompts and completions packed for one forward pass: prompts left-padded to P, so every
 * completion starts at column P, and completions right-padded to C.
 */
export interface SequenceBatch {
  rows: number;
  promptLength: number; // P
  completionLength: number; // C
  ids: Int32Array; // [rows, P + C]
  valid: Uint8Array[]; // rows x (P + C): 1 for real tokens
  completionIds: Int32Array; // [rows, C], 0 past each completion's end
  completionMask: Float32Array; // [rows, C], 1 for real completion tokens
}

export function packSequences(prompts: number[][], completions: number[][], padTokenId: number): SequenceBatch {
  const rows = prompts.length;
  const p = Math.max(1, ...prompts.map((x) => x.length));
  const c = Math.max(1, ...completions.map((x) => x.length));
  const s = p + c;
  const ids = new Int32Array(rows * s).fill(padTokenId);
  const completionIds = new Int32Array(rows * c);
  const completionMask = new Float32Array(rows * c);
  const valid = prompts.map((prompt, r) => {
    const v = new Uint8Array(s);
    ids.set(prompt, r * s + p - prompt.length);
    v.fill(1, p - prompt.length, p);
    const completion = completions[r];
    ids.set(completion, r * s + p);
    v.fill(1, p, p + completion.length);
    completionIds.set(completion, r * c);
    completionMask.fill(1, r * c, r * c + completion.length);
    return v;
  });
  return { rows, promptLength: p, completionLength: c, ids, valid, completionIds, completionMask };
}

/** A subset of rows, for minibatches; keeps the batch's P and C so shapes stay fixed. */
export function selectRows(batch: SequenceBatch, rows: number[]): SequenceBatch {
  const s = batch.promptLength + batch.completionLength;
  const c = batch.completionLength;
  const ids = new Int32Array(rows.length * s);
  const completionIds = new Int32Array(rows.length * c);
  const completionMask = new Float32Array(rows.length * c);
  rows.forEach((r, i) => {
    ids.set(batch.ids.subarray(r * s, (r + 1) * s), i * s);
    completionIds.set(batch.completionIds.subarray(r * c, (r + 1) * c), i * c);
    completionMask.set(batch.completionMask.subarray(r * c, (r + 1) * c), i * c);
  });
  return { ...batch, rows: rows.length, ids, valid: rows.map((r) => batch.valid[r]), completionIds, completionMask };
}

/**
 * Final hidden states at the positions that predict completion tokens, flattened:
 * [rows * C, hidden]. Position P-1+t predicts completion token t, so the output head never
 * runs on the prompt. Differentiable; call inside a tidy or a gradient function.
 */
function completionHidden(model: CausalLM, batch: SequenceBatch, recompute: boolean): tf.Tensor2D {
  const { rows, promptLength: p, completionLength: c } = batch;
  const s = p + c;
  const { hidden } = model.forward(
    {
      ids: tf.tensor2d(batch.ids, [rows, s], 'int32'),
      positions: tf.tensor2d(positionsFromValid(batch.valid, s), [rows, s], 'int32'),
      mask: causalMask(batch.valid, s, model.config.slidingWindow),
    },
    false,
    { recompute },
  );
  return tf.reshape(tf.slice(hidden, [0, p - 1, 0], [rows, c, -1]), [rows * c, -1]) as tf.Tensor2D;
}

/** How a scoring pass is computed: the output head in vocabulary slices of `vocabChunk` tokens (memory-plan.ts sizes them). */
export interface HeadOptions {
  vocabChunk: number;
  /** A training step's: each decoder layer recomputed in the backward pass (gradient_checkpointing). */
  recompute?: boolean;
  /** Whether the entropy enters a loss (the entropy bonus), so its gradient is needed. */
  entropyGradient?: boolean;
}

/**
 * log p of each completion token and the entropy of the distribution it was drawn from, both
 * [rows, C], from one forward pass under logits divided by the sampling temperature (as TRL
 * scores them). The [rows, C, vocab] logits are never held whole (model/chunked-head.ts).
 * Differentiable; call inside a tidy or a gradient function.
 */
export function completionLogprobsAndEntropy(model: CausalLM, batch: SequenceBatch, temperature: number, head: HeadOptions): { logp: tf.Tensor2D; entropy: tf.Tensor2D } {
  const shape: [number, number] = [batch.rows, batch.completionLength];
  const targets = tf.tensor1d(batch.completionIds, 'int32');
  const out = chunkedHeadLogprobs(completionHidden(model, batch, head.recompute ?? false), model.lmHead(), targets, {
    temperature: temperature > 0 ? temperature : 1,
    vocabChunk: head.vocabChunk,
    entropyGradient: head.entropyGradient ?? false,
  }); // [rows * C, 2]
  return {
    logp: tf.reshape(tf.slice(out, [0, 0], [-1, 1]), shape) as tf.Tensor2D,
    entropy: tf.reshape(tf.slice(out, [0, 1], [-1, 1]), shape) as tf.Tensor2D,
  };
}

/** log p of each completion token, [rows, C], under the tempered distribution. Differentiable. */
export function completionLogprobs(model: CausalLM, batch: SequenceBatch, temperature: number, head: HeadOptions): tf.Tensor2D {
  return completionLogprobsAndEntropy(model, batch, temperature, head).logp;
}

/**
 * log p of every completion token of a batch, [rows * C], scored `rowsPerChunk` rows at a
 * time so that memory does not grow with the rollout: a rollout is scored under the policy
 * and the reference in chunks memory-plan.ts sizes.
 */
export async function scoreCompletions(model: CausalLM, batch: SequenceBatch, temperature: number, rowsPerChunk: number, head: HeadOptions): Promise<Float32Array> {
  const c = batch.completionLength;
  const out = new Float32Array(batch.rows * c);
  for (let start = 0; start < batch.rows; start += rowsPerChunk) {
    const rows = Array.from({ length: Math.min(rowsPerChunk, batch.rows - start) }, (_, i) => start + i);
    const lp = tf.tidy(() => completionLogprobs(model, rows.length === batch.rows ? batch : selectRows(batch, rows), temperature, head));
    out.set((await lp.data()) as Float32Array, start * c);
    lp.dispose();
  }
  return out;
}
