// The opt-in WebGPU backend: Dawn's Node binding (the `webgpu` npm package: Vulkan, Metal or
// D3D12, no CUDA toolkit) under @tensorflow/tfjs-backend-webgpu. Opt-in, never part of
// `auto`: tfjs's WebGPU kernels are tuned for browsers, and a Dawn adapter can be a software
// one; the gradient self-test (webgpu-self-test.ts) is what lets it train.
import * as tf from '@tensorflow/tfjs-core';
import { registerWebGpuKernels, watchWebGpuErrors } from './webgpu-kernels';

/** The package version the project pins; the error for a missing package names it. */
export const WEBGPU_PACKAGE = 'webgpu@0.6.2';

export type WebGpuStart = { ok: true; adapter: string } | { ok: false; error: string };

// The little of the WebGPU API used here, so the build needs no @webgpu/types.
interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface Adapter {
  info: AdapterInfo;
}
interface Gpu {
  requestAdapter(options: { powerPreference: 'high-performance' | 'low-power' }): Promise<Adapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

let started: WebGpuStart | undefined;

/**
 * Loads Dawn, finds an adapter and makes tfjs's webgpu backend current. Remembered per process:
 * Dawn's instance lives as long as the process, so a second start reuses it.
 */
export async function startWebGpu(): Promise<WebGpuStart> {
  if (started?.ok && tf.getBackend() === 'webgpu') return started;
  if (!started) started = await openAdapter();
  if (!started.ok) return started;
  if (!(await tf.setBackend('webgpu'))) return { ok: false, error: 'tf.setBackend("webgpu") returned false; TF.js printed the cause above' };
  watchWebGpuErrors();
  return started;
}

async function openAdapter(): Promise<WebGpuStart> {
  let dawn: DawnModule;
  try {
    // A literal specifier, so esbuild leaves it to run time (external in build.mjs). The package
    // is ESM; its dist holds dawn.node for linux-x64/arm64, darwin and win32.
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const message = String(err?.message ?? e).split('\n')[0];
    if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') {
      return { ok: false, error: `the webgpu package is not installed (npm install ${WEBGPU_PACKAGE} where GRPO Studio is installed)` };
    }
    return { ok: false, error: `the webgpu package failed to load: ${message}` };
  }
  const gpu = dawn.create(dawnFlags());
  installGlobals(dawn.globals, gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    return {
      ok: false,
      error: 'Dawn found no GPU adapter: it needs a Vulkan driver on Linux (the GPU vendor\'s, or Mesa\'s), Metal on macOS or D3D12 on Windows',
    };
  }
  // Imported only now: the package registers its backend only when navigator.gpu exists at
  // import, and its factory asks navigator.gpu for the adapter again. A require, not a bare
  // import, so the bundle evaluates it here and not at start-up.
  require('@tensorflow/tfjs-backend-webgpu');
  registerWebGpuKernels();
  return { ok: true, adapter: describeAdapter(adapter) };
}

/**
 * Dawn's own switches (`backend=vulkan`, `adapter=NAME`, `enable-dawn-features=...`), from
 * GRPO_WEBGPU_FLAGS separated by spaces: the way to pick one of several GPUs, or a backend.
 */
function dawnFlags(): string[] {
  return (process.env.GRPO_WEBGPU_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}

/**
 * tfjs-backend-webgpu reads navigator.gpu and the GPUBufferUsage-style constants from the
 * global scope, as in a browser. Node 21+ defines `navigator` (without `gpu`); Node 20 does not.
 */
function installGlobals(globals: Record<string, unknown>, gpu: Gpu): void {
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true });
}

/** "NVIDIA H100 (nvidia, hopper)": what the log and `grpo bench` print; a CPU emulation says so. */
function describeAdapter(adapter: Adapter): string {
  const info = adapter.info;
  const name = info.description || info.device || info.architecture || 'unnamed adapter';
  const extra = [info.vendor, info.architecture].filter((x) => x !== undefined && x !== '' && x !== name);
  if (info.isFallbackAdapter) extra.push('software, on the CPU');
  return extra.length > 0 ? `${name} (${extra.join(', ')})` : name;
}
