// wasm's BatchMatMul hands a product of more than one batch to a plain tiled loop, not to
// XNNPACK: attention's [B*heads, T, d] x [B*heads, d, T] runs at 1.3-1.5 GFLOP/s where the same
// matmuls one batch at a time run at 13-17 (bench/RESULTS.md, 2026-12-08). So a batched product
// is done here as one XNNPACK matmul per batch, each operand slice copied into a tensor of its
// own: with the copies and XNNPACK's set-up, [32, 288, 64] x [32, 64, 96] takes 11.9 ms
// against 84.6 on the loop (7.3 for the bare products on tensors of their own). A weight
// shared by every batch folds the batches into rows instead: one larger matmul, no copies.
// Small products stay on the tiled loop, which wins where XNNPACK's per-call set-up (packing
// b) outweighs the arithmetic: decoding's one-row products ([128, 1, 16] x [16, 40]: 0.30 ms
// against 2.8 split) up to about 8 rows of 16 x 40 (even), while 16 rows already split 2x faster.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type MatMulAttrs = { transposeA: boolean; transposeB: boolean };

const MIN_SPLIT_ROWS = 8;
const MIN_SPLIT_MACS = 8192; // multiply-adds in one batch's product

/** The kernel config of `original` with batched float32 products split into single ones. */
export function withBatchesSplit(original: tf.KernelConfig): tf.KernelConfig {
  const plainKernel = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as Record<'a' | 'b', tf.TensorInfo>;
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    // Transposed operands come here already made plain (batch-matmul-transposed.ts runs first).
    const plain = !transposeA && !transposeB && a.dtype === 'float32' && b.dtype === 'float32';
    if (!plain || Math.max(batchA, batchB) === 1 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
      return plainKernel({ inputs, backend, attrs });
    }
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    const batchShape = (batchA >= batchB ? a : b).shape.slice(0, -2);
    if (batchB > 1 && (m < MIN_SPLIT_ROWS || m * k * n < MIN_SPLIT_MACS)) return plainKernel({ inputs, backend, attrs });
    if (batchB === 1) {
      // Same buffers, read as one batch: the kernel takes shapes from the TensorInfo.
      const out = plainKernel({ inputs: { a: { ...a, shape: [1, batchA * m, k] }, b: { ...b, shape: [1, k, n] } }, backend, attrs }) as tf.TensorInfo;
      return { ...out, shape: [...batchShape, m, n] };
    }
    return splitBatches(a, b, { batches: Math.max(batchA, batchB), m, k, n, batchShape }, backend as BackendWasm, plainKernel, attrs);
  };
  return { ...original, kernelFunc };
}

function splitBatches(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  s: { batches: number; m: number; k: number; n: number; batchShape: number[] },
  wasm: BackendWasm,
  plainKernel: tf.KernelFunc,
  attrs: tf.NamedAttrMap | undefined,
): tf.TensorInfo {
  const { batches, m, k, n } = s;
  const out = wasm.makeOutput([...s.batchShape, m, n], 'float32');
  const sharedA = tf.util.sizeFromShape(a.shape.slice(0, -2)) === 1;
  const aSlice = sharedA ? { ...a, shape: [1, m, k] } : wasm.makeOutput([1, m, k], 'float32');
  try {
    for (let i = 0; i < batches; i++) {
      // A fresh tensor for each b slice: XNNPACK's operator, with b packed into it, is cached
      // by b's tensor and freed with it, so a reused b would multiply by stale weights.
      const bSlice = wasm.makeOutput([1, k, n], 'float32');
      try {
        // Views after every allocation, which can grow the heap and detach earlier ones.
        if (!sharedA) wasm.typedArrayFromHeap(aSlice).set(heapF32(wasm, a).subarray(i * m * k, (i + 1) * m * k));
        wasm.typedArrayFromHeap(bSlice).set(heapF32(wasm, b).subarray(i * k * n, (i + 1) * k * n));
        const product = plainKernel({ inputs: { a: aSlice, b: bSlice }, backend: wasm, attrs }) as tf.TensorInfo;
        (wasm.typedArrayFromHeap(out) as Float32Array).set(heapF32(wasm, product), i * m * n);
        wasm.disposeData(product.dataId);
      } finally {
        wasm.disposeData(bSlice.dataId);
      }
    }
  } catch (e) {
    wasm.disposeData(out.dataId);
    throw e;
  } finally {
    if (!sharedA) wasm.disposeData(aSlice.dataId);
  }
  return out;
}

const heapF32 = (wasm: BackendWasm, t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
