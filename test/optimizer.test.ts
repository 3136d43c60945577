import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, DEFAULT_ADAMW, type AdamWSettings } from '../src/trainer/optimizer';
import type { Params } from '../src/model/params';
import { useTestBackend } from './helpers/backend';

useTestBackend();

// A matrix (decayed) and a vector (a norm gain or bias: not decayed).
const W0 = [0.5, -1, 2, 0.25];
const B0 = [1, -0.5];

function makeParams(w = W0, b = B0): Params {
  return new Map<string, tf.Variable>([
    ['w', tf.variable(tf.tensor2d(w, [2, 2]), true)],
    ['b', tf.variable(tf.tensor1d(b), true)],
  ]);
}

function gradsOf(w: number[], b: number[]): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['w', tf.tensor2d(w, [2, 2])],
    ['b', tf.tensor1d(b)],
  ]);
}

async function stepWith(opt: AdamW, w: number[], b: number[], lr: number) {
  const g = gradsOf(w, b);
  const r = await opt.update(g, lr);
  for (const t of g.values()) t.dispose();
  return r;
}

function values(params: Params, name: string): number[] {
  return Array.from(params.get(name)!.dataSync());
}

function dispose(params: Params, opt: AdamW): void {
  opt.dispose();
  for (const v of params.values()) v.dispose();
}

/** AdamW in float64 plain arithmetic, as the paper and torch.optim.AdamW write it. */
function referenceAdamW(p: number[], grads: number[][], lrs: number[], s: AdamWSettings, decay: boolean): number[] {
  const x = p.slice();
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  grads.forEach((g, i) => {
    const t = i + 1;
    const lr = lrs[i];
    for (let j = 0; j < x.length; j++) {
      if (decay) x[j] -= lr * s.weightDecay * x[j];
      m[j] = s.beta1 * m[j] + (1 - s.beta1) * g[j];
      v[j] = s.beta2 * v[j] + (1 - s.beta2) * g[j] * g[j];
      const mHat = m[j] / (1 - s.beta1 ** t);
      const vHat = v[j] / (1 - s.beta2 ** t);
      x[j] -= (lr * mHat) / (Math.sqrt(vHat) + s.eps);
    }
  });
  return x;
}

function assertClose(got: number[], want: number[], what: string): void {
  // Tolerance: float32 arithmetic on values of order 1.
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-6 + 1e-5 * Math.abs(want[i]), `${what}[${i}]: ${g} vs ${want[i]}`));
}

test('three AdamW steps with bias correction, decoupled decay on the matrix only and a per-step learning rate match plain arithmetic (atol 1e-6 + rtol 1e-5)', async () => {
  const settings: AdamWSettings = { ...DEFAULT_ADAMW, weightDecay: 0.1, maxGradNorm: 0 };
  const params = makeParams();
  const opt = new AdamW(params, settings);
  const gw = [[0.1, -0.2, 0.3, 0.05], [-0.3, 0.1, 0.0, 0.2], [0.2, 0.2, -0.1, -0.4]];
  const gb = [[0.5, -0.1], [0.2, 0.3], [-0.4, 0.05]];
  const lrs = [0.01, 0.02, 0.005];
  for (let i = 0; i < 3; i++) assert.equal((await stepWith(opt, gw[i], gb[i], lrs[i])).applied, true);
  assert.equal(opt.step, 3);
  assertClose(values(params, 'w'), referenceAdamW(W0, gw, lrs, settings, true), 'w');
  assertClose(values(params, 'b'), referenceAdamW(B0, gb, lrs, settings, false), 'b');
  dispose(params, opt);
});

test('moments kept in host memory give the same steps, weights and state as moments on the backend, and leak no tensors', async () => {
  const settings: AdamWSettings = { ...DEFAULT_ADAMW, weightDecay: 0.1, maxGradNorm: 0.5 };
  const onDevice = makeParams();
  const onHost = makeParams();
  const a = new AdamW(onDevice, settings);
  const b = new AdamW(onHost, settings, { hostMoments: true });
  assert.equal(b.hostMoments, true);
  const gw = [[0.1, -0.2, 0.3, 0.05], [-0.3, 0.1, 0.0, 0.2], [0.2, 0.2, -0.1, -0.4]];
  const gb = [[0.5, -0.1], [0.2, 0.3], [-0.4, 0.05]];
  await stepWith(b, gw[0], gb[0], 0.01); // warm-up: the first step makes the uploads' shapes
  const tensors = tf.memory().numTensors;
  for (let i = 1; i < 3; i++) await stepWith(b, gw[i], gb[i], 0.01);
  assert.equal(tf.memory().numTensors, tensors, 'host moments leak no tensors');
  for (let i = 0; i < 3; i++) await stepWith(a, gw[i], gb[i], 0.01);
  assert.deepEqual(values(onHost, 'w'), values(onDevice, 'w'));
  assert.deepEqual(values(onHost, 'b'), values(onDevice, 'b'));
  assert.deepEqual(await b.state(), await a.state());
  dispose(onDevice, a);
  dispose(onHost, b);
});

test('clipping scales the gradients to max_grad_norm and reports the norm before clipping', async () => {
  const params = makeParams();
  const opt = new AdamW(params, { ...DEFAULT_ADAMW, maxGradNorm: 1 });
  // Global norm over both tensors: sqrt(9 + 16) = 5.
  const r = await stepWith(opt, [3, 0, 0, 0], [0, 4], 0.01);
  assert.equal(r.applied, true);
  assert.ok(Math.abs(r.gradNorm - 5) < 1e-6);
  const scale = 1 / (5 + 1e-6);
  const { moments } = await opt.state();
  // After one step m = (1 - beta1) * clipped gradient, v = (1 - beta2) * its square.
  assertClose(Array.from(moments.get('w')!.m), [0.1 * 3 * scale, 0, 0, 0], 'm(w)');
  assertClose(Array.from(moments.get('b')!.v), [0, 0.001 * (4 * scale) ** 2], 'v(b)');
  dispose(params, opt);
});

test('a gradient with NaN or Inf changes nothing: weights, moments and step count stay', async () => {
  const params = makeParams();
  const opt = new AdamW(params);
  await stepWith(opt, [0.1, 0.2, 0.3, 0.4], [0.1, 0.1], 0.01);
  const before = { w: values(params, 'w'), b: values(params, 'b'), state: await opt.state() };
  for (const bad of [NaN, Infinity, -Infinity]) {
    const r = await stepWith(opt, [0.1, bad, 0.3, 0.4], [0.1, 0.1], 0.01);
    assert.equal(r.applied, false);
    assert.ok(!Number.isFinite(r.gradNorm));
  }
  assert.deepEqual(values(params, 'w'), before.w);
  assert.deepEqual(values(params, 'b'), before.b);
  assert.deepEqual(await opt.state(), before.state);
  assert.equal(opt.step, 1);
  dispose(params, opt);
});

test('a restored state gives bit-identical next steps', async () => {
  const a = makeParams();
  const optA = new AdamW(a, { ...DEFAULT_ADAMW, weightDecay: 0.01 });
  await stepWith(optA, [0.1, -0.2, 0.3, 0.05], [0.5, -0.1], 0.01);
  await stepWith(optA, [-0.3, 0.1, 0.7, 0.2], [0.2, 0.3], 0.01);

  const b = makeParams(values(a, 'w'), values(a, 'b'));
  const optB = new AdamW(b, { ...DEFAULT_ADAMW, weightDecay: 0.01 });
  optB.restore(await optA.state(), 'test checkpoint');
  assert.equal(optB.step, 2);
  for (const opt of [optA, optB]) {
    await stepWith(opt, [0.2, 0.2, -0.1, -0.4], [-0.4, 0.05], 0.003);
    await stepWith(opt, [0.9, -0.2, 0.1, 0.4], [0.1, 0.15], 0.003);
  }
  assert.deepEqual(values(b, 'w'), values(a, 'w'));
  assert.deepEqual(values(b, 'b'), values(a, 'b'));
  assert.deepEqual(await optB.state(), await optA.state());
  dispose(a, optA);
  dispose(b, optB);
});

test('restoring moments of the wrong size is a user error naming the checkpoint and parameter', async () => {
  const params = makeParams();
  const opt = new AdamW(params);
  const state = await opt.state();
  state.moments.set('w', { m: new Float32Array(3), v: new Float32Array(3) });
  assert.throws(() => opt.restore(state, 'run/checkpoints/iter-4'), /run\/checkpoints\/iter-4: optimizer moments for "w"/);
  dispose(params, opt);
});

test('many updates leak no tensors', async () => {
  const params = makeParams();
  const opt = new AdamW(params, { ...DEFAULT_ADAMW, weightDecay: 0.1 });
  await stepWith(opt, [1, 2, 3, 4], [1, 2], 0.01);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) await stepWith(opt, [1, 2, 3, 4], [1, 2], 0.01);
  await stepWith(opt, [NaN, 2, 3, 4], [1, 2], 0.01);
  assert.equal(tf.memory().numTensors, before);
  dispose(params, opt);
});
