// Backend selection: forced, from GRPO_BACKEND, and auto, and what a failure says.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendStatus, initBackend } from '../src/engine/backend';
import { UserError } from '../src/errors';

describe('initBackend', () => {
  const envBefore = process.env.GRPO_BACKEND;
  afterEach(() => {
    if (envBefore === undefined) delete process.env.GRPO_BACKEND;
    else process.env.GRPO_BACKEND = envBefore;
  });

  // Counted before the wasm module starts: Emscripten adds process handlers of its own.
  const handlersBefore = { uncaught: 0, rejection: 0 };

  it('starts wasm when forced, with SIMD on and threads off', async () => {
    handlersBefore.uncaught = process.listenerCount('uncaughtException');
    handlersBefore.rejection = process.listenerCount('unhandledRejection');
    const choice = await initBackend('wasm');
    assert.deepEqual(choice, { name: 'wasm', reason: 'wasm: forced by --backend' });
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(backendStatus(), { name: 'wasm', simd: true, threads: false, summary: 'wasm (SIMD on, threads off)' });
  });

  it("leaves Node's own uncaught-error reporting in place", () => {
    assert.equal(process.listenerCount('uncaughtException'), handlersBefore.uncaught);
    assert.equal(process.listenerCount('unhandledRejection'), handlersBefore.rejection);
  });

  it('is harmless to call again: tensors made before stay usable', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    await initBackend('wasm');
    await initBackend('wasm');
    assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3]);
    x.dispose();
  });

  it('registers the gradients and chained ops that tfjs-core alone lacks', () => {
    const grad = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.square(x).sum())(tf.tensor1d([1, -2])).dataSync()));
    assert.deepEqual(grad, [2, -4]);
  });

  it('starts cpu when forced', async () => {
    assert.deepEqual(await initBackend('cpu'), { name: 'cpu', reason: 'cpu: forced by --backend' });
    assert.deepEqual(backendStatus(), { name: 'cpu', summary: 'cpu' });
  });

  it('reads GRPO_BACKEND when no backend is requested', async () => {
    process.env.GRPO_BACKEND = 'wasm';
    assert.deepEqual(await initBackend(), { name: 'wasm', reason: 'wasm: forced by GRPO_BACKEND' });
  });

  it('rejects an unknown GRPO_BACKEND with the values it takes', async () => {
    process.env.GRPO_BACKEND = 'gpu';
    await assert.rejects(initBackend(), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /GRPO_BACKEND=gpu .*tensorflow, wasm, cpu, webgpu, auto/);
      return true;
    });
  });

  it('auto picks native TensorFlow where it loads, else wasm and says why', async () => {
    delete process.env.GRPO_BACKEND;
    const choice = await initBackend('auto');
    assert.equal(tf.getBackend(), choice.name);
    if (choice.name === 'tensorflow') {
      assert.match(choice.reason, /^tensorflow: loaded @tensorflow\/tfjs-node/);
      return;
    }
    assert.equal(choice.name, 'wasm');
    assert.match(choice.reason, /^wasm: .*@tensorflow\/tfjs-node-gpu.*@tensorflow\/tfjs-node\b/);
    assert.doesNotMatch(choice.reason, /\n/);

    // Native TensorFlow did not load, so forcing it is the user's error, with the way out.
    await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^--backend tensorflow: .*--backend wasm or cpu/);
      return true;
    });
    assert.equal(tf.getBackend(), 'wasm');
  });
});
