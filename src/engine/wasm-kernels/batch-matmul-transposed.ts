// wasm's matmul with transposeA or transposeB set takes a naive path, about 25x slower than
// XNNPACK's plain one (40 ms against 1.5 ms for 512x512 by 512x128, DESIGN.md). The gradient
// of every matmul sets those flags, so we transpose the flagged operand explicitly, which
// costs one copy, and run the plain kernel. Applies to BatchMatMul and _FusedMatMul alike.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors';

type MatMulAttrs = { transposeA: boolean; transposeB: boolean };

/** The kernel config of `original` with its transposed cases sent through the plain path. */
export function withExplicitTranspose(original: tf.KernelConfig): tf.KernelConfig {
  const plainKernel = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    if (!transposeA && !transposeB) return plainKernel({ inputs, backend, attrs });
    const wasm = backend as BackendWasm;
    const a = transposeA ? swapLastTwoAxes(inputs.a as tf.TensorInfo, wasm) : undefined;
    const b = transposeB ? swapLastTwoAxes(inputs.b as tf.TensorInfo, wasm) : undefined;
    try {
      return plainKernel({
        inputs: { ...inputs, a: a ?? inputs.a, b: b ?? inputs.b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      if (a) wasm.disposeData(a.dataId);
      if (b) wasm.disposeData(b.dataId);
    }
  };
  return { ...original, kernelFunc };
}

/** [..., m, k] -> [..., k, m] with wasm's own Transpose kernel; the caller disposes it. */
function swapLastTwoAxes(x: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo {
  const transpose = tf.getKernel(tf.Transpose, 'wasm');
  assert(transpose, 'the wasm backend has no Transpose kernel');
  const rank = x.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}
