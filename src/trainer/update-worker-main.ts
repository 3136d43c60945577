// The update worker's thread: its own TF.js with its own wasm backend (so on the other core),
// a copy of the model, and the second half of each optimizer step's micro-batches.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../engine/backend';
import { useWasmBinariesFrom } from '../engine/wasm-binaries';
import { CausalLM } from '../model/causal-lm';
import { stepShare } from './policy-step';
import type { NamedArrays, ShareRequest, WorkerInit, WorkerReply } from './update-worker-protocol';

const port = parentPort!;
const reply = (m: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function start(init: WorkerInit): Promise<CausalLM> {
  useWasmBinariesFrom(init.wasmDir);
  await initBackend('wasm');
  const params = new Map(init.params.map(([name, values, shape]) => [name, tf.variable(tf.tensor(values, shape, 'float32'), true, name)]));
  return new CausalLM(init.modelConfig, params);
}

async function share(model: CausalLM, m: ShareRequest): Promise<void> {
  // assign(), not a write over the old buffer: the wasm matmul caches each weight's packed
  // form by tensor, so only a new tensor reaches it. One parameter at a time, so the heap
  // holds one spare parameter, not a spare model.
  for (const [name, values, shape] of m.weights) {
    const v = model.trainable.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(values, shape, 'float32')));
  }
  // As on the trainer's thread: where the plan keeps gradients off the backend, so does the worker.
  const r = await stepShare(model, m.config, m.step, m.micro, m.firstIndex, m.settings, m.counts, m.threshold, m.settings.hostGradients === true && m.micro.length > 1);
  const grads: NamedArrays = [];
  for (const [name, g] of r.grads) {
    grads.push([name, (await g.data()) as Float32Array, g.shape]);
    g.dispose();
  }
  reply({ type: 'shared', loss: r.loss, parts: r.parts, grads, logprobs: r.logprobs }, ownBuffers(grads));
}

/** Buffers that hold exactly one array, which can move to the trainer without a copy. */
function ownBuffers(arrays: NamedArrays): ArrayBuffer[] {
  return arrays.filter(([, v]) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength).map(([, v]) => v.buffer as ArrayBuffer);
}

start(workerData as WorkerInit).then(
  (model) => {
    // One request at a time: the trainer awaits each share before the next step.
    port.on('message', (m: ShareRequest) => {
      share(model, m).catch((e: Error) => reply({ type: 'error', message: e.stack ?? e.message }));
    });
    reply({ type: 'ready' });
  },
  (e: Error) => reply({ type: 'error', message: e.stack ?? e.message }),
);
