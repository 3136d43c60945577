// wasm's OneHot writes int32 values whatever dtype it was asked for, so a float32 one-hot
// reads back as denormals (1 becomes 1.4e-45) and fractional on/off values are lost. For
// non-int32 dtypes we fill the output here, in the backend's own heap memory.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type OneHotAttrs = { dtype: tf.DataType; depth: number; onValue: number; offValue: number };

export function withOneHotDtypeFixed(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { dtype, depth, onValue, offValue } = attrs as unknown as OneHotAttrs;
    if (dtype === 'int32') return original.kernelFunc({ inputs, backend, attrs });
    const wasm = backend as BackendWasm;
    const indices = inputs.indices as tf.TensorInfo;
    const ids = wasm.readSync(indices.dataId) as Int32Array;
    const out = wasm.makeOutput([...indices.shape, depth], dtype);
    const values = wasm.typedArrayFromHeap(out);
    values.fill(offValue);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id >= 0 && id < depth) values[i * depth + id] = onValue; // out of range: an all-off row
    }
    return out;
  };
  return { ...original, kernelFunc };
}
