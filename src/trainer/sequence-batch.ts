import * as tf from '@tensorflow/tfjs-core';
import { causalMask, positionsFromValid } from '../model/attention-mask';
import type { CausalLM } from '../model/causal-lm';
import { tokenLogprobs } from '../model/token-logprobs';

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
 * Logits at the positions that predict completion tokens: [rows, C, vocab]. The lm head
 * runs on those C positions only, not on the prompt. Differentiable; call inside a tidy or
 * a gradient function.
 */
export function completionLogits(model: CausalLM, batch: SequenceBatch): tf.Tensor3D {
  const { rows, promptLength: p, completionLength: c } = batch;
  const s = p + c;
  const { hidden } = model.forward(
    {
      ids: tf.tensor2d(batch.ids, [rows, s], 'int32'),
      positions: tf.tensor2d(positionsFromValid(batch.valid, s), [rows, s], 'int32'),
      mask: causalMask(batch.valid, s, model.config.slidingWindow),
    },
    false,
  );
  // Position P-1+t predicts completion token t.
  return model.logits(tf.slice(hidden, [0, p - 1, 0], [rows, c, -1]) as tf.Tensor3D);
}

/**
 * log p of each completion token, [rows, C], under logits divided by the sampling
 * temperature: the distribution the completions were drawn from, as TRL scores them.
 * Differentiable; call inside a tidy or a gradient function.
 */
export function completionLogprobs(model: CausalLM, batch: SequenceBatch, temperature: number): tf.Tensor2D {
  let logits = completionLogits(model, batch);
  if (temperature > 0 && temperature !== 1) logits = tf.div(logits, temperature);
  return tokenLogprobs(logits, tf.tensor2d(batch.completionIds, [batch.rows, batch.completionLength], 'int32'));
}
