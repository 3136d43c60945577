// Every op a LLaMA forward pass and the GRPO loss use must have a gradient on wasm that
// matches the cpu backend's. Inputs are built from plain arrays on each backend.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';

// float32 on both sides, different summation orders: this is what agreement looks like.
const RTOL = 1e-4;
const ATOL = 1e-5;

interface Input {
  shape: number[];
  /** 'positive' for inputs of sqrt, log, pow; 'index' (int32, in [0, max)) for gather ids. */
  kind?: 'normal' | 'positive' | { index: number };
}

interface GradCase {
  name: string;
  inputs: Input[];
  /** Which inputs the gradient is taken with respect to; the rest are constants. */
  wrt: number[];
  f: (...xs: tf.Tensor[]) => tf.Tensor;
}

const n = (...shape: number[]): Input => ({ shape });
const pos = (...shape: number[]): Input => ({ shape, kind: 'positive' });
const ids = (max: number, ...shape: number[]): Input => ({ shape, kind: { index: max } });

const CASES: GradCase[] = [
  { name: 'gather (embedding lookup)', inputs: [n(10, 4), ids(10, 2, 6)], wrt: [0], f: (e, i) => tf.gather(e, i) },
  { name: 'gather with batchDims 1', inputs: [n(2, 5, 3), ids(5, 2, 4)], wrt: [0], f: (x, i) => tf.gather(x, i, 1, 1) },
  { name: 'gather with batchDims 2 (token log-probs)', inputs: [n(2, 3, 5), ids(5, 2, 3)], wrt: [0], f: (x, i) => tf.gather(x, i, 2, 2) },
  { name: 'gather axis 1', inputs: [n(3, 7), ids(7, 4)], wrt: [0], f: (x, i) => tf.gather(x, i, 1) },
  { name: 'matMul', inputs: [n(3, 4), n(4, 5)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b) },
  { name: 'matMul transposeA', inputs: [n(4, 3), n(4, 5)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b, true) },
  { name: 'matMul transposeB', inputs: [n(3, 4), n(5, 4)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul both transposed', inputs: [n(4, 3), n(5, 4)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b, true, true) },
  { name: 'batched matMul, rank-2 weight', inputs: [n(2, 3, 4, 5), n(5, 6)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b) },
  { name: 'batched matMul, broadcast batch', inputs: [n(2, 1, 3, 4), n(3, 4, 2)], wrt: [0, 1], f: (a, b) => tf.matMul(a, b) },
  { name: 'attention scores q.kT', inputs: [n(1, 2, 3, 4), n(1, 2, 5, 4)], wrt: [0, 1], f: (q, k) => tf.matMul(q, k, false, true) },
  {
    name: 'fused matMul with bias and relu, transposeB',
    inputs: [n(3, 4), n(5, 4), n(5)],
    wrt: [0, 1, 2],
    f: (a, b, bias) => tf.fused.matMul({ a, b, bias, transposeB: true, activation: 'relu' }),
  },
  { name: 'reshape', inputs: [n(2, 6)], wrt: [0], f: (x) => tf.reshape(x, [3, 2, 2]) },
  { name: 'transpose', inputs: [n(2, 3, 4, 5)], wrt: [0], f: (x) => tf.transpose(x, [0, 2, 1, 3]) },
  { name: 'slice', inputs: [n(4, 5)], wrt: [0], f: (x) => tf.slice(x, [1, 2], [2, 3]) },
  { name: 'split (rotary halves)', inputs: [n(2, 6)], wrt: [0], f: (x) => { const [a, b] = tf.split(x, 2, -1); return tf.concat([tf.neg(b), a], -1); } },
  { name: 'concat', inputs: [n(2, 3), n(2, 2)], wrt: [0, 1], f: (a, b) => tf.concat([a, b], -1) },
  { name: 'add with broadcast', inputs: [n(2, 3, 4), n(4)], wrt: [0, 1], f: (a, b) => tf.add(a, b) },
  { name: 'sub with broadcast', inputs: [n(2, 3, 4), n(3, 1)], wrt: [0, 1], f: (a, b) => tf.sub(a, b) },
  { name: 'mul with broadcast', inputs: [n(2, 3, 4), n(1, 4)], wrt: [0, 1], f: (a, b) => tf.mul(a, b) },
  { name: 'div with broadcast', inputs: [n(2, 3), pos(3)], wrt: [0, 1], f: (a, b) => tf.div(a, b) },
  { name: 'neg', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.neg(x) },
  { name: 'square', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.square(x) },
  { name: 'mean keepDims', inputs: [n(2, 3, 4)], wrt: [0], f: (x) => tf.mean(x, -1, true) },
  { name: 'sum over axes', inputs: [n(2, 3, 4)], wrt: [0], f: (x) => tf.sum(x, [0, 2]) },
  { name: 'sqrt', inputs: [pos(3, 4)], wrt: [0], f: (x) => tf.sqrt(x) },
  { name: 'rsqrt', inputs: [pos(3, 4)], wrt: [0], f: (x) => tf.rsqrt(x) },
  { name: 'exp', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.exp(x) },
  { name: 'log', inputs: [pos(3, 4)], wrt: [0], f: (x) => tf.log(x) },
  { name: 'sigmoid', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.sigmoid(x) },
  { name: 'silu x*sigmoid(x)', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.mul(x, tf.sigmoid(x)) },
  { name: 'softmax', inputs: [n(3, 5)], wrt: [0], f: (x) => tf.softmax(x) },
  { name: 'logSoftmax', inputs: [n(2, 3, 7)], wrt: [0], f: (x) => tf.logSoftmax(x) },
  { name: 'max over last axis', inputs: [n(3, 5)], wrt: [0], f: (x) => tf.max(x, -1) },
  { name: 'where', inputs: [n(3, 4), n(3, 4)], wrt: [0, 1], f: (a, b) => tf.where(tf.greater(a, b), a, b) },
  { name: 'maximum', inputs: [n(3, 4), n(3, 4)], wrt: [0, 1], f: (a, b) => tf.maximum(a, b) },
  { name: 'minimum', inputs: [n(3, 4), n(4)], wrt: [0, 1], f: (a, b) => tf.minimum(a, b) },
  { name: 'clipByValue', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.clipByValue(x, -0.5, 0.5) },
  { name: 'cast of a mask', inputs: [n(3, 4)], wrt: [0], f: (x) => tf.mul(x, tf.cast(tf.greater(x, 0), 'float32')) },
  { name: 'tile', inputs: [n(2, 3)], wrt: [0], f: (x) => tf.tile(x, [2, 3]) },
  { name: 'expandDims', inputs: [n(2, 3)], wrt: [0], f: (x) => tf.expandDims(x, 1) },
  { name: 'squeeze', inputs: [n(2, 1, 3)], wrt: [0], f: (x) => tf.squeeze(x, [1]) },
  { name: 'stack', inputs: [n(2, 3), n(2, 3)], wrt: [0, 1], f: (a, b) => tf.stack([a, b], 1) },
  { name: 'oneHot mask', inputs: [n(2, 3, 6), ids(6, 2, 3)], wrt: [0], f: (x, i) => tf.sum(tf.mul(x, tf.oneHot(i, 6)), -1) },
  { name: 'pow with scalar exponent', inputs: [pos(3, 4)], wrt: [0], f: (x) => tf.pow(x, tf.scalar(2.5)) },
  { name: 'pow with tensor exponent', inputs: [pos(3, 4), n(3, 4)], wrt: [0, 1], f: (x, y) => tf.pow(x, y) },
  {
    name: 'RMSNorm',
    inputs: [n(2, 3, 8), n(8)],
    wrt: [0, 1],
    f: (x, w) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w),
  },
];

/** Deterministic values so a failure reproduces. */
function valuesFor(input: Input, seed: number): number[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const size = input.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: size }, () => {
    const kind = input.kind ?? 'normal';
    if (kind === 'normal') return rand() * 2 - 1;
    if (kind === 'positive') return 0.5 + rand();
    return Math.floor(rand() * kind.index);
  });
}

function makeInput(input: Input, seed: number): tf.Tensor {
  const dtype = typeof input.kind === 'object' ? 'int32' : 'float32';
  return tf.tensor(valuesFor(input, seed), input.shape, dtype);
}

/** A loss whose gradient differs per element, so a permuted gradient would not pass. */
function weightedSum(y: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(y, tf.cos(tf.reshape(tf.range(0, y.size), y.shape))));
}

async function gradientsOn(backend: 'cpu' | 'wasm', c: GradCase): Promise<number[][]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = c.inputs.map((input, k) => makeInput(input, 1000 + k));
    const grads = tf.grads((...wrt: tf.Tensor[]) => {
      const all = xs.map((x, k) => (c.wrt.includes(k) ? wrt[c.wrt.indexOf(k)] : x));
      return weightedSum(c.f(...all));
    })(c.wrt.map((k) => xs[k]));
    return grads.map((g) => Array.from(g.dataSync()));
  });
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tol = ATOL + RTOL * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: wasm ${actual[i]} vs cpu ${expected[i]} (tol ${tol})`);
  }
}

describe('gradients on wasm match the cpu backend (rtol 1e-4, atol 1e-5)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const expected = await gradientsOn('cpu', c);
      const actual = await gradientsOn('wasm', c);
      c.wrt.forEach((k, j) => assertClose(actual[j], expected[j], `d/dx${k}`));
    });
  }

  // The cpu backend runs the same (fixed) gather gradient, so this check is independent of it:
  // a gather is a product with one-hot rows, and so is its gradient.
  const gatherAsOneHot: [string, Input[], (x: tf.Tensor, i: tf.Tensor) => [tf.Tensor, tf.Tensor]][] = [
    ['embedding, axis 0', [n(10, 4), ids(10, 2, 6)], (x, i) => [tf.gather(x, i), tf.matMul(tf.oneHot(i, 10), x)]],
    ['axis 1', [n(3, 7), ids(7, 4)], (x, i) => [tf.gather(x, i, 1), tf.matMul(x, tf.oneHot(i, 7), false, true)]],
    ['batchDims 1, axis 2', [n(2, 3, 5), ids(5, 2, 4)], (x, i) => [tf.gather(x, i, 2, 1), tf.matMul(x, tf.oneHot(i, 5), false, true)]],
    ['batchDims 2, axis 2', [n(2, 3, 5), ids(5, 2, 3)], (x, i) => [tf.gather(x, i, 2, 2), tf.sum(tf.mul(x, tf.oneHot(i, 5)), -1)]],
  ];
  for (const [name, inputs, both] of gatherAsOneHot) {
    it(`gather gradient equals its one-hot product's on wasm: ${name}`, async () => {
      await tf.setBackend('wasm');
      const [gathered, product] = tf.tidy(() => {
        const [x, i] = inputs.map((input, k) => makeInput(input, 500 + k));
        return [0, 1].map((which) => Array.from(tf.grad((x: tf.Tensor) => weightedSum(both(x, i)[which]))(x).dataSync()));
      });
      assertClose(gathered, product, 'dx');
    });
  }

  it('the fixed gradients leak no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const [x, w, y] = [makeInput(n(2, 3, 4), 1), makeInput(n(4, 5), 2), makeInput(n(2, 3, 4), 3)];
    const step = () =>
      tf.tidy(() =>
        tf.grads((x: tf.Tensor, w: tf.Tensor, y: tf.Tensor) =>
          weightedSum(tf.add(tf.matMul(tf.where(tf.greater(x, y), x, tf.minimum(x, y)), w), tf.maximum(x, 0.1).sum())),
        )([x, w, y]),
      );
    tf.dispose(step());
    const backend = tf.engine().backend;
    const [tensors, buffers] = [tf.memory().numTensors, backend.numDataIds()];
    for (let i = 0; i < 3; i++) tf.dispose(step());
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), buffers);
    tf.dispose([x, w, y]);
  });

  it('tf.variableGrads of an embedding + 2-layer MLP', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const vars = [n(12, 6), n(6, 8), n(8), n(8, 12)].map((s, k) => tf.variable(makeInput(s, 2000 + k)));
      const tokens = makeInput(ids(12, 2, 5), 3000);
      const [embed, w1, b1, w2] = vars;
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.relu(tf.add(tf.matMul(tf.reshape(tf.gather(embed, tokens), [10, 6]), w1), b1)); // [10, 8]
        const logits = tf.matMul(h, w2); // [10, 12]
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.reshape(tokens, [10]), 12)), -1))) as tf.Scalar;
      }, vars);
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
      tf.dispose([value, tokens, ...Object.values(grads), ...vars]);
      return out;
    };
    const expected = await run('cpu');
    const actual = await run('wasm');
    assertClose([actual.loss], [expected.loss], 'loss');
    actual.grads.forEach((g, k) => assertClose(g, expected.grads[k], `grad of variable ${k}`));
  });
});
