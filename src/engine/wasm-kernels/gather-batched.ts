// wasm's GatherV2 (tfjs-backend-wasm 4.22) returns wrong values once batchDims > 0 and the
// gathered axis is not the first after the batch dims: gather(logp[B,T,V], ids[B,T], 2, 2),
// which picks each token's log-probability, returns garbage. Batched gathers are done here
// as plain copies on the wasm heap; batchDims 0 (the embedding lookup) keeps the C++ kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The kernel config of `original` with batched gathers done in JavaScript. */
export function withBatchedGatherFixed(original: tf.KernelConfig): tf.KernelConfig {
  const gatherKernel = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, indices } = inputs as Record<'x' | 'indices', tf.TensorInfo>;
    const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
    if (batchDims === 0) return gatherKernel({ inputs, backend, attrs });
    const wasm = backend as BackendWasm;
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    // x: [batch, outer, dim, slice]; indices: [batch, picks]; out: [batch, outer, picks, slice]
    const { batchSize, outerSize, dimSize, sliceSize, outputShape } = tf.backend_util.segment_util.collectGatherOpShapeInfo(
      x as tf.TensorInfo as tf.Tensor,
      indices as tf.TensorInfo as tf.Tensor,
      parsedAxis,
      batchDims,
    );
    const picks = tf.util.sizeFromShape(indices.shape) / batchSize;
    const out = wasm.makeOutput(outputShape, x.dtype);
    // Views after makeOutput, which can grow the heap and detach earlier ones.
    const source = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(indices);
    const target = wasm.typedArrayFromHeap(out);
    for (let b = 0; b < batchSize; b++) {
      for (let k = 0; k < picks; k++) {
        const index = ids[b * picks + k];
        if (!(index >= 0 && index < dimSize)) {
          wasm.disposeData(out.dataId);
          throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
        }
        for (let o = 0; o < outerSize; o++) {
          const from = ((b * outerSize + o) * dimSize + index) * sliceSize;
          const to = ((b * outerSize + o) * picks + k) * sliceSize;
          target.set(source.subarray(from, from + sliceSize), to);
        }
      }
    }
    return out;
  };
  return { ...original, kernelFunc };
}
