// Fixes to tfjs-backend-webgpu 4.22 for training, and the watch on the device's errors.
import * as tf from '@tensorflow/tfjs-core';
import { assert } from '../errors';

interface WebGpuDevice {
  limits: { maxStorageBuffersPerShaderStage: number };
  addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string } }) => void): void;
}
interface WebGpuBackendLike {
  device: WebGpuDevice;
  disposeData(dataId: object): void;
}

let registered = false;

/** Replaces the kernels below; idempotent. Call after @tensorflow/tfjs-backend-webgpu is loaded. */
export function registerWebGpuKernels(): void {
  if (registered) return;
  registered = true;
  const original = tf.getKernel(tf.AddN, 'webgpu');
  assert(original, 'the webgpu backend has no AddN kernel');
  tf.unregisterKernel(tf.AddN, 'webgpu');
  tf.registerKernel(withBoundedAddN(original));
}

/**
 * AddN binds every input as a storage buffer in one shader, but a device allows 8 per stage
 * unless more are asked for (tfjs does not ask), so the sum of the squared gradients of 20
 * parameters (the optimizer's global norm) makes an invalid pipeline: Dawn prints a
 * validation error and the result is garbage, not an exception. Summing in groups that fit
 * keeps it one kernel per group.
 */
function withBoundedAddN(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = ((args: { inputs: tf.TensorInfo[]; backend: WebGpuBackendLike; attrs?: tf.NamedAttrMap }) => {
    const most = args.backend.device.limits.maxStorageBuffersPerShaderStage - 1; // one binding is the output
    let inputs = args.inputs;
    const partial: tf.TensorInfo[] = [];
    while (inputs.length > most) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < inputs.length; i += most) {
        const group = inputs.slice(i, i + most);
        if (group.length === 1) {
          next.push(group[0]);
          continue;
        }
        const sum = original.kernelFunc({ ...args, inputs: group } as never) as tf.TensorInfo;
        partial.push(sum);
        next.push(sum);
      }
      inputs = next;
    }
    const out = original.kernelFunc({ ...args, inputs } as never);
    // Safe while queued: the backend frees a buffer only after the commands using it ran.
    for (const t of partial) args.backend.disposeData(t.dataId);
    return out;
  }) as unknown as tf.KernelFunc;
  return { ...original, kernelFunc };
}

let firstError: string | undefined;
let watched: WebGpuDevice | undefined;

/**
 * Records the first error the device reports outside an error scope. WebGPU reports an
 * invalid shader or an out-of-memory buffer this way, after the fact, and tfjs never looks,
 * so without this watch a run would go on training on garbage.
 */
export function watchWebGpuErrors(): void {
  const device = (tf.backend() as unknown as WebGpuBackendLike).device;
  if (device === watched) return;
  watched = device;
  device.addEventListener('uncapturederror', (event) => {
    firstError ??= event.error.message.split('\n')[0];
  });
}

/** The first error the webgpu device reported, if any; cleared by reading. */
export function takeWebGpuError(): string | undefined {
  const e = firstError;
  firstError = undefined;
  return e;
}
