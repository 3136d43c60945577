// Chooses the TF.js backend for this process: native TensorFlow where the user has it,
// else wasm (SIMD, one thread in Node), else the pure-JS cpu backend; webgpu when asked for.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's main entry registers neither op gradients nor the chained ops (x.sum()) that
// some gradients call; the @tensorflow/tfjs union package would, but we depend on core only.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-wasm';
import { assert, UserError } from '../errors';
import { registerGradientFixes } from './gradient-fixes';
import { locateWasmBinaries } from './wasm-binaries';
import { registerWasmKernels } from './wasm-kernels';
import { startWebGpu } from './webgpu';
import { takeWebGpuError } from './webgpu-kernels';
import { gradientSelfTest } from './webgpu-self-test';

// Loading the package registers the cpu backend. Not a bare import: esbuild drops those for
// this package, whose "sideEffects" list leaves out its Node entry.
require('@tensorflow/tfjs-backend-cpu');

export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';

/** The backend in use and one human line saying why it was chosen. */
export interface BackendChoice {
  name: BackendName;
  reason: string;
}

/** What the running backend is, for logs and `grpo bench`. */
export interface BackendStatus {
  name: string;
  /** wasm only: whether the SIMD build of the wasm binary is running. */
  simd?: boolean;
  /** wasm only: whether the multi-threaded build is running (never in Node, see DESIGN.md). */
  threads?: boolean;
  /** One line, e.g. "wasm (SIMD on, threads off)". */
  summary: string;
}

const REQUESTS = ['tensorflow', 'wasm', 'cpu', 'webgpu', 'auto'] as const;
type BackendRequest = (typeof REQUESTS)[number];

// Literal requires, so esbuild leaves them to run time (both are external in build.mjs).
const NATIVE_PACKAGES: { pkg: string; load: () => unknown }[] = [
  { pkg: '@tensorflow/tfjs-node-gpu', load: () => require('@tensorflow/tfjs-node-gpu') },
  { pkg: '@tensorflow/tfjs-node', load: () => require('@tensorflow/tfjs-node') },
];

interface NativeProbe {
  loaded?: string;
  /** Why each package could not be used, in order of preference. */
  failures: string[];
}

let nativeProbe: NativeProbe | undefined;
let wasmFlags: { simd: boolean; threads: boolean } | undefined;

/**
 * Selects and initialises a backend. `request` defaults to $GRPO_BACKEND, then 'auto'
 * (tensorflow-gpu, tensorflow, wasm, cpu: the first that works). A forced backend that
 * cannot start is a UserError. Safe to call more than once.
 */
export async function initBackend(request?: BackendName | 'auto'): Promise<BackendChoice> {
  const source = request === undefined ? 'GRPO_BACKEND' : '--backend';
  const wanted = request ?? parseEnvRequest(process.env.GRPO_BACKEND);
  registerWasmKernels();
  const choice = await startBackend(wanted, source);
  // After startBackend: loading a native package re-registers tfjs's own gradients.
  registerGradientFixes();
  return choice;
}

async function startBackend(wanted: BackendRequest, source: string): Promise<BackendChoice> {
  if (wanted === 'auto') {
    const native = probeNative();
    if (native.loaded && (await tf.setBackend('tensorflow'))) {
      return { name: 'tensorflow', reason: `tensorflow: loaded ${native.loaded}` };
    }
    const nativeWhy = native.loaded
      ? `${native.loaded} loaded but its backend did not initialise`
      : native.failures.join('; ');
    const wasm = await startWasm();
    if (wasm.ok) return { name: 'wasm', reason: `wasm: ${nativeWhy}` };
    await startCpu();
    return { name: 'cpu', reason: `cpu: ${nativeWhy}; wasm failed to initialise: ${wasm.error}` };
  }

  const forced = `forced by ${source}`;
  if (wanted === 'tensorflow') {
    const native = probeNative();
    if (native.loaded && (await tf.setBackend('tensorflow'))) {
      return { name: 'tensorflow', reason: `tensorflow: ${forced} (${native.loaded})` };
    }
    const why = native.loaded ? `${native.loaded} loaded but its backend did not initialise` : native.failures.join('; ');
    throw new UserError(
      `${source} tensorflow: ${why}. Install @tensorflow/tfjs-node (or -gpu with CUDA 11.2 and cuDNN 8.1), or use --backend wasm or cpu`,
    );
  }
  if (wanted === 'webgpu') return startCheckedWebGpu(forced);
  if (wanted === 'wasm') {
    const wasm = await startWasm();
    if (wasm.ok) return { name: 'wasm', reason: `wasm: ${forced}` };
    throw new UserError(`${source} wasm: the wasm backend failed to initialise (${wasm.error}); use --backend cpu or auto`);
  }
  await startCpu();
  return { name: 'cpu', reason: `cpu: ${forced}` };
}

/**
 * webgpu, once its gradients match wasm's (or cpu's, where wasm cannot start) on a tiny
 * llama; otherwise that reference backend, with the reason. A fallback rather than an error:
 * the run still trains, and the reason is the first thing in its log.
 */
async function startCheckedWebGpu(forced: string): Promise<BackendChoice> {
  const wasm = await startWasm();
  const reference: BackendName = wasm.ok ? 'wasm' : 'cpu';
  if (!wasm.ok) await startCpu();
  const fallback = (why: string): BackendChoice => ({ name: reference, reason: `${reference}: webgpu was ${forced} but ${why}; training on ${reference} instead` });
  const gpu = await startWebGpu();
  if (!gpu.ok) return fallback(gpu.error);
  const test = await gradientSelfTest('webgpu', reference, takeWebGpuError);
  if (!test.ok) {
    await tf.setBackend(reference);
    return fallback(
      Number.isFinite(test.worst)
        ? `its gradients on ${gpu.adapter} differ from ${reference}'s by ${test.worst.toExponential(2)} of the largest (${test.where}), above the self-test's tolerance`
        : `its self-test on ${gpu.adapter} failed: ${test.where}`,
    );
  }
  return { name: 'webgpu', reason: `webgpu: ${forced}, on ${gpu.adapter}; gradients match ${reference} within ${test.worst.toExponential(1)} (self-test ${test.ms} ms)` };
}

/**
 * Throws where the backend reported a failed command since the last call (webgpu reports
 * them after the fact, as events): what `during` computed cannot be trusted, and the
 * checkpoints already saved are from before it.
 */
export function assertBackendHealthy(during: string): void {
  const error = takeWebGpuError();
  if (error === undefined) return;
  throw new UserError(
    `the webgpu backend reported a failed GPU command during ${during} ("${error}"), so its results are not used and training stopped; ` +
      'the last checkpoint is from before it. Resume with --backend wasm, or set GRPO_WEBGPU_FLAGS to choose another adapter or backend',
  );
}

/** False where a tensor's values can only be read with `await data()`: webgpu in Node has no readSync. */
export function canReadSync(): boolean {
  return tf.getBackend() !== 'webgpu';
}

/** The backend TF.js is running now, with the wasm build's SIMD and thread flags. */
export function backendStatus(): BackendStatus {
  // getBackend() is typed string but is null until a backend has been set.
  const name = (tf.getBackend() as string | null) ?? 'none';
  if (name !== 'wasm' || wasmFlags === undefined) return { name, summary: name };
  const { simd, threads } = wasmFlags;
  return { name, simd, threads, summary: `wasm (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})` };
}

function parseEnvRequest(value: string | undefined): BackendRequest {
  if (value === undefined || value === '') return 'auto';
  const v = value.trim().toLowerCase();
  if ((REQUESTS as readonly string[]).includes(v)) return v as BackendRequest;
  throw new UserError(`GRPO_BACKEND=${value} is not a backend; set it to one of ${REQUESTS.join(', ')}, or unset it`);
}

/** Tries the native packages once per process; a failed load is remembered, not retried. */
function probeNative(): NativeProbe {
  if (nativeProbe) return nativeProbe;
  const failures: string[] = [];
  for (const { pkg, load } of NATIVE_PACKAGES) {
    try {
      load();
      if (tf.findBackendFactory('tensorflow')) {
        nativeProbe = { loaded: pkg, failures };
        return nativeProbe;
      }
      failures.push(`${pkg} registered no backend with this copy of @tensorflow/tfjs-core`);
    } catch (e) {
      failures.push(describeLoadFailure(pkg, e));
      // A half-loaded package leaves its kernels registered for a backend that never came;
      // removing them keeps the next package from warning about every kernel twice.
      for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    }
  }
  nativeProbe = { failures: mergeNotInstalled(failures) };
  return nativeProbe;
}

function describeLoadFailure(pkg: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const message = String(err?.message ?? e);
  if (err?.code === 'MODULE_NOT_FOUND' && message.includes(`'${pkg}'`)) return `${pkg} is not installed`;
  const firstSentence = message.split('\n')[0].replace(/\s+$/, '');
  return `${pkg} failed to load: ${firstSentence}`;
}

/** "a is not installed; b is not installed" reads better as "a and b are not installed". */
function mergeNotInstalled(failures: string[]): string[] {
  const suffix = ' is not installed';
  if (failures.length > 1 && failures.every((f) => f.endsWith(suffix))) {
    return [`${failures.map((f) => f.slice(0, -suffix.length)).join(' and ')} are not installed`];
  }
  return failures;
}

async function startWasm(): Promise<{ ok: true } | { ok: false; error: string }> {
  if (wasmFlags && tf.getBackend() === 'wasm') return { ok: true };
  const located = locateWasmBinaries();
  if (!located.ok) return located;
  const started = await withoutNewProcessHandlers(() => tf.setBackend('wasm'));
  if (!started) return { ok: false, error: 'tf.setBackend("wasm") returned false; TF.js printed the cause above' };
  wasmFlags = {
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean,
    threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') as boolean,
  };
  return { ok: true };
}

async function startCpu(): Promise<void> {
  assert(await tf.setBackend('cpu'), 'the cpu backend did not initialise');
}

/**
 * Emscripten's module adds uncaughtException and unhandledRejection handlers that rethrow
 * from inside its one-line minified source, so Node would print that whole line (tens of kB)
 * with every uncaught error in the process. We drop them and keep Node's own reporting.
 */
async function withoutNewProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const uncaught = process.listeners('uncaughtException');
  const rejection = process.listeners('unhandledRejection');
  try {
    return await start();
  } finally {
    for (const l of process.listeners('uncaughtException')) {
      if (!uncaught.includes(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!rejection.includes(l)) process.removeListener('unhandledRejection', l);
    }
  }
}
