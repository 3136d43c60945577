// wasm's Identity copies its input, and TF.js runs an Identity for every clone: for every
// tensor the gradient tape saves (each matmul's input, each activation), for tf.keep'd
// copies, for variables. A training step's tape so held a second copy of each saved
// activation, several where an input feeds several matmuls (q, k and v share theirs): the
// 25M model's forward-and-backward pass peaked at 2.6 MB per token where the activations need
// a fraction of that. Tensors are immutable in TF.js (a variable's assign takes a new data
// buffer), so, as on the cpu backend, a clone can share its input's buffer: the same data,
// one more reference. Strings keep the original kernel.
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function withSharedIdentity(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { ...original, kernelFunc };
}
