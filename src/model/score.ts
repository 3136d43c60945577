import * as tf from '@tensorflow/tfjs-core';
import { causalMask, positionsFromValid } from './attention-mask';
import type { CausalLM } from './causal-lm';
import { tokenLogprobs } from './token-logprobs';

/** Upper bound on logits held at once (floats), so long batches are scored in slices. */
const MAX_LOGIT_FLOATS = 32 * 1024 * 1024;

/**
 * Per-token log-probabilities of whole sequences: result[r][i] = log p(ids[i] | ids[0..i-1]),
 * with null at i = 0 (nothing predicts the first token). Sequences may differ in length;
 * they are right-padded and masked.
 */
export async function scoreSequences(model: CausalLM, sequences: number[][], batchSize = 8): Promise<(number | null)[][]> {
  const out: (number | null)[][] = [];
  const longest = Math.max(1, ...sequences.map((s) => s.length));
  const rowsPerSlice = Math.max(1, Math.min(batchSize, Math.floor(MAX_LOGIT_FLOATS / (longest * model.config.vocabSize))));
  for (let start = 0; start < sequences.length; start += rowsPerSlice) {
    const slice = sequences.slice(start, start + rowsPerSlice);
    const values = await scoreSlice(model, slice);
    out.push(...values);
  }
  return out;
}

async function scoreSlice(model: CausalLM, sequences: number[][]): Promise<(number | null)[][]> {
  const b = sequences.length;
  const s = Math.max(1, ...sequences.map((x) => x.length));
  const ids = new Int32Array(b * s);
  const targets = new Int32Array(b * s);
  const valid = sequences.map((seq, r) => {
    const v = new Uint8Array(s);
    seq.forEach((id, i) => {
      ids[r * s + i] = id;
      v[i] = 1;
      if (i > 0) targets[r * s + i - 1] = id; // position i-1 predicts token i
    });
    return v;
  });
  const lp = tf.tidy(() => {
    const mask = causalMask(valid, s, model.config.slidingWindow);
    const positions = tf.tensor2d(positionsFromValid(valid, s), [b, s], 'int32');
    const { hidden } = model.forward({ ids: tf.tensor2d(ids, [b, s], 'int32'), positions, mask }, false);
    return tokenLogprobs(model.logits(hidden), tf.tensor2d(targets, [b, s], 'int32'));
  });
  const data = await lp.data();
  lp.dispose();
  return sequences.map((seq, r) => seq.map((_, i) => (i === 0 ? null : data[r * s + i - 1])));
}
