// What the benchmarks measure speed against: the backend's own matmul peak, and the matmul
// FLOPs a model's passes need (projections, attention, output head; norms, rotations and
// softmax are left out, so achieved GFLOP/s is a lower bound on work done).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../model/config';

/** Best of several 1024^3 matmuls, GFLOP/s: the ceiling any model figure is compared against. */
export async function matmulPeak(): Promise<number> {
  const n = 1024;
  const [a, b] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    const c = tf.matMul(a, b);
    await c.data(); // a sync point: the backend may run kernels lazily (webgpu has no dataSync)
    if (i > 0) best = Math.min(best, performance.now() - t);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/**
 * Matmul FLOPs of one forward pass over `tokens` positions in which each query attends to
 * `keysPerQuery` keys on average, with the output head run on `headTokens` of them.
 */
export function passFlops(c: ModelConfig, tokens: number, keysPerQuery: number, headTokens: number): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const projections = 2 * tokens * (c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize);
  const attention = 2 * 2 * tokens * keysPerQuery * q; // scores and weighted values
  return c.numLayers * (projections + attention) + 2 * headTokens * c.hiddenSize * c.vocabSize;
}

/** Matmul FLOPs of one forward over rows x len tokens, the head on every token (the kernel bench's training step). */
export function forwardFlops(c: ModelConfig, rows: number, len: number): number {
  return passFlops(c, rows * len, len, rows * len); // the full len x len score matrix is computed
}
