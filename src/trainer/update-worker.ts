// Both cores for the update: the wasm backend computes on one thread, so a second TF.js in a
// worker thread takes half of each optimizer step's micro-batches (data parallel, as DDP on
// two ranks). Before each share it gets the trainable weights as they are; it sends back the
// sum of its micro-batches' gradients, which the trainer adds to its own half's. The result
// equals the one-thread update within float32 rounding (test/update-worker.test.ts).
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { isOutOfMemoryText } from '../engine/out-of-memory';
import { locateWasmBinaries } from '../engine/wasm-binaries';
import { workerScript } from '../engine/worker-script';
import { join } from 'node:path';
import type { CausalLM } from '../model/causal-lm';
import type { TrainingConfig } from './config';
import type { StepCounts } from './loss';
import type { StepBatch, StepSettings, UpdateShareRunner } from './policy-step';
import type { NamedArrays, ShareRequest, WorkerInit, WorkerReply } from './update-worker-protocol';

export class UpdateWorker implements UpdateShareRunner {
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    });
    const fail = (e: Error) => {
      this.failure ??= e; // the first reason stands: a close, then the exit it causes
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the update worker exited (code ${code})`)));
  }

  /** Starts the worker with a copy of `model`'s weights; `tmpDir` holds its script when run from sources. */
  static async start(model: CausalLM, tmpDir: string): Promise<UpdateWorker> {
    if (model.lora) throw new Error('internal error: the update worker trains full models only');
    const wasm = locateWasmBinaries();
    if (!wasm.ok) throw new Error(wasm.error);
    const init: WorkerInit = { wasmDir: wasm.dir, modelConfig: model.config, params: namedArrays(model.params) };
    const script = await workerScript('update-worker', join(__dirname, 'update-worker-main.ts'), tmpDir);
    const worker = new UpdateWorker(new Worker(script, { workerData: init, transferList: init.params.map(([, v]) => v.buffer as ArrayBuffer) }));
    const first = await worker.next();
    if (first.type !== 'ready') throw new Error(`the update worker did not start: ${first.type === 'error' ? first.message : first.type}`);
    return worker;
  }

  private next(): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  async share(
    model: CausalLM, config: TrainingConfig, step: StepBatch, micro: number[][], firstIndex: number,
    s: StepSettings, counts: StepCounts, threshold: number | undefined,
  ) {
    const { parallel: _, ...settings } = s;
    const weights = namedArrays(model.trainable);
    const request: ShareRequest = { type: 'share', weights, config, step, micro, firstIndex, settings, counts: { ...counts }, threshold };
    const reply = this.next();
    this.worker.postMessage(request, weights.map(([, v]) => v.buffer as ArrayBuffer));
    const r = await reply;
    if (r.type === 'error') {
      // The worker's own wasm heap is full: the same fault, and the same fix, as the trainer's.
      if (isOutOfMemoryText(r.message)) throw new RangeError(`the update worker ran out of memory: ${r.message}`);
      throw new Error(`the update worker failed: ${r.message}`);
    }
    if (r.type !== 'shared') throw new Error(`internal error: the update worker answered ${r.type}`);
    return { loss: r.loss, parts: r.parts, grads: new Map(r.grads.map(([name, values, shape]) => [name, { values, shape }])), logprobs: r.logprobs };
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the update worker was closed');
    await this.worker.terminate();
  }
}

/**
 * Copies of the tensors' values, ready to transfer. The wasm backend's dataSync already copies
 * out of its heap; the cpu backend's returns its own storage, which must not move.
 */
function namedArrays(params: Map<string, { dataSync(): unknown; shape: number[] }>): NamedArrays {
  const copied = tf.getBackend() === 'wasm';
  return [...params].map(([name, v]) => {
    const data = v.dataSync() as Float32Array;
    return [name, copied ? data : Float32Array.from(data), v.shape.slice()];
  });
}
