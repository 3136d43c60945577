import * as tf from '@tensorflow/tfjs-core';

/**
 * Additive attention masks: 0 where a query may attend a key, a large negative number where
 * not. A finite value (not -Infinity) keeps fully masked rows, the queries at padding
 * positions, free of NaN; their outputs are never read.
 */
export const MASKED = -1e9;

/**
 * keyValid[b][s] says whether key s of row b is a real token (not padding).
 * Queries are the last T keys: query t sits at key index S - T + t.
 * Returns [B, 1, T, S], causal, with an optional sliding window (query - key < window).
 */
export function causalMask(keyValid: Uint8Array[], queryLength: number, slidingWindow: number | null): tf.Tensor4D {
  const b = keyValid.length;
  const s = keyValid[0].length;
  const t = queryLength;
  const out = new Float32Array(b * t * s).fill(MASKED);
  for (let row = 0; row < b; row++) {
    const valid = keyValid[row];
    for (let q = 0; q < t; q++) {
      const qIndex = s - t + q;
      const lo = slidingWindow === null ? 0 : Math.max(0, qIndex - slidingWindow + 1);
      const base = (row * t + q) * s;
      for (let k = lo; k <= qIndex; k++) if (valid[k]) out[base + k] = 0;
    }
  }
  return tf.tensor4d(out, [b, 1, t, s]);
}

/** Position ids: each real token's index among the real tokens of its row; padding gets 0. */
export function positionsFromValid(keyValid: Uint8Array[], queryLength: number): Int32Array {
  const b = keyValid.length;
  const s = keyValid[0].length;
  const out = new Int32Array(b * queryLength);
  for (let row = 0; row < b; row++) {
    let pos = 0;
    for (let k = 0; k < s; k++) {
      const q = k - (s - queryLength);
      if (q >= 0) out[row * queryLength + q] = keyValid[row][k] ? pos : 0;
      if (keyValid[row][k]) pos++;
    }
  }
  return out;
}
