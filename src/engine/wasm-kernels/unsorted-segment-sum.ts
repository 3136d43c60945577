// UnsortedSegmentSum for the wasm backend, which lacks it. The gradient of tf.gather (the
// embedding lookup) scatters dy back into the table with it.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors';

/**
 * out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] == s.
 * x: [...segmentIds.shape, ...row]; out: [numSegments, ...row]. Ids outside
 * [0, numSegments) are dropped, as on the cpu backend.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, segmentIds } = inputs as Record<'x' | 'segmentIds', tf.TensorInfo>;
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const wasm = backend as BackendWasm;
  assert(x.dtype === 'float32' || x.dtype === 'int32', `UnsortedSegmentSum on wasm got x of dtype ${x.dtype}`);
  assert(segmentIds.dtype === 'int32', `UnsortedSegmentSum on wasm got segmentIds of dtype ${segmentIds.dtype}`);

  const rowShape = x.shape.slice(segmentIds.shape.length);
  const rowSize = tf.util.sizeFromShape(rowShape);
  const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
  // Views are taken after makeOutput: an allocation can grow the wasm heap and detach
  // views made before it. makeOutput does not zero its memory.
  const sums = wasm.typedArrayFromHeap(out);
  const values = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  sums.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] += values[from + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
