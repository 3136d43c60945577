// The project's own kernels for the wasm backend: one it lacks, three it runs slowly, three
// it gets wrong in some cases, and one that copies where sharing is safe.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors';
import { withBatchesSplit } from './batch-matmul-split';
import { withExplicitTranspose } from './batch-matmul-transposed';
import { withBatchedBiasFixed } from './fused-matmul-bias';
import { withBatchedGatherFixed } from './gather-batched';
import { withSharedIdentity } from './identity-shared';
import { withOneHotDtypeFixed } from './one-hot-dtype';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

let registered = false;

/** Registers the kernels with TF.js; idempotent, and harmless before or after tf.setBackend. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  // A later tfjs-backend-wasm that ships its own UnsortedSegmentSum keeps it.
  if (!tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) tf.registerKernel(unsortedSegmentSumConfig);
  // Transposes first, so the batch split sees plain operands only.
  replaceWasmKernel(tf.BatchMatMul, (original) => withExplicitTranspose(withBatchesSplit(original)));
  // Transposes first, so the bias fix sees plain operands only.
  replaceWasmKernel(tf._FusedMatMul, (original) => withExplicitTranspose(withBatchedBiasFixed(original)));
  replaceWasmKernel(tf.GatherV2, withBatchedGatherFixed);
  replaceWasmKernel(tf.OneHot, withOneHotDtypeFixed);
  replaceWasmKernel(tf.Identity, withSharedIdentity);
}

function replaceWasmKernel(name: string, wrap: (original: tf.KernelConfig) => tf.KernelConfig): void {
  const original = tf.getKernel(name, 'wasm');
  assert(original, `the wasm backend has no ${name} kernel`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(wrap(original));
}
