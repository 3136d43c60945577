// wasm's _FusedMatMul (tfjs-backend-wasm 4.22) adds the bias wrongly to every row but the
// first of each batch once the output has more than one batch and more than one row, e.g.
// tf.fused.matMul({a: x[B,T,d], b: W[d,k], bias}). It is right for a single batch and
// without a bias, so:
// - a weight shared by all batches: fold the batches into rows, one [1, B*T, d] x [1, d, k]
//   matmul, which is also one large GEMM instead of B small ones;
// - per-batch weights: matmul without bias, then the bias and the activation as kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors';

/** The kernel config of `original` with its wrong multi-batch bias avoided. */
export function withBatchedBiasFixed(original: tf.KernelConfig): tf.KernelConfig {
  const fusedKernel = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const a = inputs.a as tf.TensorInfo; // [batchA, m, k], or [batchA, k, m] with transposeA
    const b = inputs.b as tf.TensorInfo; // [batchB, k, n], or [batchB, n, k] with transposeB
    const fusedAttrs = attrs as unknown as tf._FusedMatMulAttrs;
    const [batchA, rows] = [a.shape[0], a.shape[fusedAttrs.transposeA ? 2 : 1]];
    const batchB = b.shape[0];
    if (inputs.bias == null || Math.max(batchA, batchB) === 1 || rows === 1) {
      return fusedKernel({ inputs, backend, attrs });
    }
    if (batchB === 1 && !fusedAttrs.transposeA) {
      // Same buffer, its shape read as one batch: the kernel takes shapes from the TensorInfo.
      const aFolded: tf.TensorInfo = { ...a, shape: [1, batchA * rows, a.shape[2]] };
      const out = fusedKernel({ inputs: { ...inputs, a: aFolded }, backend, attrs }) as tf.TensorInfo;
      return { ...out, shape: [batchA, rows, out.shape[2]] };
    }
    const wasm = backend as BackendWasm;
    const product = fusedKernel({ inputs: { a, b }, backend, attrs: { ...attrs, activation: 'linear' } }) as tf.TensorInfo;
    const biased = runWasmKernel(tf.Add, { a: product, b: inputs.bias }, {}, wasm);
    wasm.disposeData(product.dataId);
    const out = activate(biased, fusedAttrs, inputs.preluActivationWeights, wasm);
    if (out !== biased) wasm.disposeData(biased.dataId);
    return out;
  };
  return { ...original, kernelFunc };
}

function activate(
  x: tf.TensorInfo,
  { activation, leakyreluAlpha }: tf._FusedMatMulAttrs,
  preluWeights: tf.TensorInfo | undefined,
  backend: BackendWasm,
): tf.TensorInfo {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return runWasmKernel(tf.Relu, { x }, {}, backend);
    case 'relu6':
      return runWasmKernel(tf.Relu6, { x }, {}, backend);
    case 'elu':
      return runWasmKernel(tf.Elu, { x }, {}, backend);
    case 'sigmoid':
      return runWasmKernel(tf.Sigmoid, { x }, {}, backend);
    case 'leakyrelu':
      return runWasmKernel(tf.LeakyRelu, { x }, { alpha: leakyreluAlpha ?? 0.2 }, backend);
    case 'prelu':
      return runWasmKernel(tf.Prelu, { x, alpha: preluWeights }, {}, backend);
    default:
      throw new Error(`_FusedMatMul on wasm: unknown activation ${activation}`);
  }
}

function runWasmKernel(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, backend: BackendWasm): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  assert(kernel, `the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}
