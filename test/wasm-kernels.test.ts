// The project's wasm kernels against the cpu backend's (or a plain reference where the cpu
// kernel has the same limits), on inputs of several shapes, and checks that neither they
// nor their gradients leak tensors or wasm buffers.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';

const RTOL = 1e-5;
const ATOL = 1e-5;

function seededValues(size: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 2 * scale;
  });
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);
}

/** Runs `f` on `backend` and returns its result as a flat array with its shape. */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<{ shape: number[]; values: number[] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const y = f();
    return { shape: y.shape, values: Array.from(y.dataSync()) };
  });
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tol = ATOL + RTOL * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: wasm ${actual[i]} vs cpu ${expected[i]}`);
  }
}

async function assertSameOnBothBackends(f: () => tf.Tensor, what: string): Promise<void> {
  const expected = await on('cpu', f);
  const actual = await on('wasm', f);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assertClose(actual.values, expected.values, what);
}

/** Tensors known to TF.js and buffers held by the wasm backend, before and after `f` runs thrice. */
async function assertNoLeak(f: () => tf.TensorContainer, what: string): Promise<void> {
  await tf.setBackend('wasm');
  tf.dispose(f()); // the first call may set up state kept for later calls
  const wasmBackend = tf.engine().backend;
  const tensors = tf.memory().numTensors;
  const buffers = wasmBackend.numDataIds();
  for (let i = 0; i < 3; i++) tf.dispose(f());
  assert.equal(tf.memory().numTensors, tensors, `${what}: tensors`);
  assert.equal(wasmBackend.numDataIds(), buffers, `${what}: wasm buffers`);
}

before(async () => {
  await initBackend('wasm');
});

describe('UnsortedSegmentSum on wasm', () => {
  // The cpu kernel takes only 1-D segment ids (the gradient of gather passes no others).
  const cases: { x: number[]; ids: number[]; segments: number }[] = [
    { x: [6], ids: [0, 2, 2, 1, 0, 2], segments: 3 },
    { x: [5, 3], ids: [1, -1, 4, 7, 1], segments: 5 }, // -1 and 7 are dropped
    { x: [6, 2, 3], ids: [0, 3, 3, 1, 0, 5], segments: 6 },
    { x: [4, 2, 2], ids: [2, 2, 2, 2], segments: 4 }, // empty segments stay zero
  ];
  for (const c of cases) {
    it(`sums x${JSON.stringify(c.x)} by ids ${JSON.stringify(c.ids)} into ${c.segments} segments like cpu`, async () => {
      const f = (dtype: 'float32' | 'int32') => () => {
        const x = tf.cast(tf.mul(randomTensor(c.x, 7), 10), dtype);
        return tf.unsortedSegmentSum(x, tf.tensor1d(c.ids, 'int32'), c.segments);
      };
      await assertSameOnBothBackends(f('float32'), 'float32');
      await assertSameOnBothBackends(f('int32'), 'int32');
    });
  }

  /** out[s] = sum of the rows of x whose id is s, in float32 like the kernel. */
  function referenceSum(xValues: number[], rowSize: number, ids: number[], segments: number): Float32Array {
    const out = new Float32Array(segments * rowSize);
    ids.forEach((s, i) => {
      if (s < 0 || s >= segments) return;
      for (let j = 0; j < rowSize; j++) out[s * rowSize + j] += Math.fround(xValues[i * rowSize + j]);
    });
    return out;
  }

  function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
    for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) return i;
    return actual.length === expected.length ? -1 : expected.length;
  }

  it('takes segment ids of rank 2, as x[2,3,4] by ids[2,3]', async () => {
    await tf.setBackend('wasm');
    const xValues = seededValues(24, 5);
    const ids = [0, 3, 3, 1, 0, 5];
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xValues, [2, 3, 4]), [ids.slice(0, 3), ids.slice(3)], 6));
    assert.deepEqual(out.shape, [6, 4]);
    assert.equal(firstMismatch(out.dataSync(), referenceSum(xValues, 4, ids, 6)), -1);
    out.dispose();
  });

  it('fills an output large enough to grow the wasm heap', async () => {
    await tf.setBackend('wasm');
    const xValues = seededValues(4 * 64, 11);
    const ids = [59_999, 3, 59_999, 40_000];
    const segments = 60_000; // 60000 x 64 floats = 15 MB, near the heap's initial 16 MB
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xValues, [4, 64]), tf.tensor1d(ids, 'int32'), segments));
    assert.equal(firstMismatch(out.dataSync(), referenceSum(xValues, 64, ids, segments)), -1);
    out.dispose();
  });

  it('leaks nothing, forward or as the gradient of gather', async () => {
    const table = tf.tidy(() => randomTensor([20, 8], 3));
    const ids = tf.tensor2d([[1, 5, 5], [19, 0, 1]], [2, 3], 'int32');
    await assertNoLeak(() => tf.tidy(() => tf.unsortedSegmentSum(table, tf.tensor1d([0, 1, 1, 3, 0, 0, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], 'int32'), 4)), 'forward');
    await assertNoLeak(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table)), 'gather gradient');
    tf.dispose([table, ids]);
  });
});

describe('GatherV2 with batchDims on wasm', () => {
  // [x shape, indices shape, axis, batchDims]
  const cases: [number[], number[], number, number][] = [
    [[2, 3, 5], [2, 3], 2, 2], // one log-probability per token
    [[2, 3, 5, 2], [2, 3], 2, 2],
    [[2, 3, 5], [2, 4], 2, 1],
    [[2, 5, 3], [2, 4], 1, 1],
    [[2, 3, 5], [2, 3, 2], -1, 2],
  ];
  for (const [xShape, idShape, axis, batchDims] of cases) {
    it(`gathers x${JSON.stringify(xShape)} by ids${JSON.stringify(idShape)} on axis ${axis}, batchDims ${batchDims}, like cpu`, async () => {
      const dim = xShape[axis < 0 ? xShape.length + axis : axis];
      const ids = seededValues(tf.util.sizeFromShape(idShape), 9).map((v) => Math.floor((v + 1) / 2 * dim));
      for (const dtype of ['float32', 'int32'] as const) {
        await assertSameOnBothBackends(
          () => tf.gather(tf.cast(tf.mul(randomTensor(xShape, 4), 10), dtype), tf.tensor(ids, idShape, 'int32'), axis, batchDims),
          dtype,
        );
      }
    });
  }

  it('rejects an index out of range', async () => {
    await tf.setBackend('wasm');
    const [x, ids] = [tf.zeros([2, 3]), tf.tensor2d([[0, 1], [1, 3]], [2, 2], 'int32')];
    const buffers = tf.engine().backend.numDataIds();
    assert.throws(() => tf.gather(x, ids, 1, 1), /index value 3 is not in \[0, 2\]/);
    assert.equal(tf.engine().backend.numDataIds(), buffers, 'the output made before the check is freed');
    tf.dispose([x, ids]);
  });

  it('leaks nothing, forward or backward', async () => {
    const [logp, ids] = [randomTensor([2, 3, 5], 1), tf.tensor2d([[0, 4, 4], [2, 1, 3]], [2, 3], 'int32')];
    await assertNoLeak(() => tf.tidy(() => tf.gather(logp, ids, 2, 2)), 'forward');
    await assertNoLeak(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.gather(x, ids, 2, 2)))(logp)), 'gradient');
    tf.dispose([logp, ids]);
  });
});

describe('BatchMatMul and _FusedMatMul with transposed operands on wasm', () => {
  // [a shape, b shape, transposeA, transposeB]
  const cases: [number[], number[], boolean, boolean][] = [
    [[4, 3], [4, 5], true, false],
    [[3, 4], [5, 4], false, true],
    [[4, 3], [5, 4], true, true],
    [[3, 4], [4, 5], false, false],
    [[1, 4, 3], [1, 4, 5], true, false],
    [[1, 3, 4], [1, 5, 4], false, true],
    [[3, 4, 2], [3, 5, 4], true, true],
    [[3, 2, 4], [1, 5, 4], false, true], // batch broadcast
    [[2, 3, 5, 4], [5, 6], true, false], // rank-2 operand broadcast over two batch dims
    [[2, 1, 3, 4], [3, 5, 4], false, true],
    // Batched products, split into one per batch (batch-matmul-split.ts):
    [[4, 3, 5], [4, 5, 2], false, false],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false], // two batch dims
    [[1, 4, 5], [3, 5, 2], false, false], // one a for every b
    [[3, 5, 4], [3, 2, 5], true, true],
    [[6, 7, 3], [6, 7, 4], true, false], // attention's gradient shapes
  ];
  for (const [aShape, bShape, transposeA, transposeB] of cases) {
    const name = `${JSON.stringify(aShape)} x ${JSON.stringify(bShape)}, transposeA=${transposeA}, transposeB=${transposeB}`;
    it(`matMul ${name} matches cpu`, async () => {
      await assertSameOnBothBackends(
        () => tf.matMul(randomTensor(aShape, 1), randomTensor(bShape, 2), transposeA, transposeB),
        name,
      );
    });
  }

  // tf.fused.matMul flattens batch dims before broadcasting them, so it cannot take the case
  // that broadcasts [2, 1] against [3].
  for (const [aShape, bShape, transposeA, transposeB] of cases.filter(([a]) => JSON.stringify(a) !== '[2,1,3,4]')) {
    const name = `${JSON.stringify(aShape)} x ${JSON.stringify(bShape)}, transposeA=${transposeA}, transposeB=${transposeB}`;
    it(`fused matMul with bias and relu ${name} matches cpu`, async () => {
      const n = transposeB ? bShape[bShape.length - 2] : bShape[bShape.length - 1];
      await assertSameOnBothBackends(
        () =>
          tf.fused.matMul({
            a: randomTensor(aShape, 1),
            b: randomTensor(bShape, 2),
            bias: randomTensor([n], 3),
            transposeA,
            transposeB,
            activation: 'relu',
          }),
        name,
      );
    });
  }

  for (const activation of ['linear', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
    it(`fused matMul with bias and ${activation}, shared and per-batch weights, matches cpu`, async () => {
      for (const bShape of [[1, 4, 5], [3, 4, 5]]) {
        await assertSameOnBothBackends(
          () =>
            tf.fused.matMul({
              a: randomTensor([3, 2, 4], 1),
              b: randomTensor(bShape, 2),
              bias: randomTensor([5], 3),
              activation,
              preluActivationWeights: activation === 'prelu' ? randomTensor([5], 4) : undefined,
              leakyreluAlpha: 0.1,
            }),
          `b ${JSON.stringify(bShape)}`,
        );
      }
    });
  }

  it('runs a transposed matmul at about the speed of a plain one', async () => {
    await tf.setBackend('wasm');
    const [a, b, bT] = [randomTensor([256, 256], 1), randomTensor([256, 256], 2), randomTensor([256, 256], 3)];
    const fastest = (f: () => tf.Tensor) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const y = f();
        y.dataSync();
        best = Math.min(best, performance.now() - t0);
        y.dispose();
      }
      return best;
    };
    const plain = fastest(() => tf.matMul(a, b));
    const transposed = fastest(() => tf.matMul(a, bT, true, true));
    tf.dispose([a, b, bT]);
    // Unpatched, the transposed path is about 25x slower; a copy of each operand is cheap.
    assert.ok(transposed < 5 * plain + 1, `transposed ${transposed.toFixed(2)} ms vs plain ${plain.toFixed(2)} ms`);
  });

  it('runs a batched matmul at about the speed of its batches one at a time', async () => {
    await tf.setBackend('wasm');
    const [a, b] = [randomTensor([32, 96, 64], 1), randomTensor([32, 64, 96], 2)];
    const [as, bs] = [tf.unstack(a).map((x) => tf.expandDims(x, 0)), tf.unstack(b).map((x) => tf.expandDims(x, 0))];
    const fastest = (f: () => tf.Tensor[]) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const ys = f();
        ys.forEach((y) => y.dataSync());
        best = Math.min(best, performance.now() - t0);
        tf.dispose(ys);
      }
      return best;
    };
    const batched = fastest(() => [tf.matMul(a, b)]);
    const single = fastest(() => as.map((x, i) => tf.matMul(x, bs[i])));
    tf.dispose([a, b, ...as, ...bs]);
    // Unpatched, the batched path is about 10x slower than its batches one by one.
    assert.ok(batched < 2 * single + 1, `batched ${batched.toFixed(2)} ms vs one at a time ${single.toFixed(2)} ms`);
  });

  it('leaks nothing, forward or backward', async () => {
    const [a, b, bias] = [randomTensor([2, 3, 4], 1), randomTensor([5, 4], 2), randomTensor([5], 3)];
    const [qs, ks] = [randomTensor([3, 4, 2], 4), randomTensor([3, 5, 2], 5)];
    await assertNoLeak(() => tf.tidy(() => tf.grads((q: tf.Tensor, k: tf.Tensor) => tf.sum(tf.matMul(q, k, false, true)))([qs, ks])), 'batched matMul gradient');
    await assertNoLeak(() => tf.tidy(() => tf.matMul(a, b, false, true)), 'matMul');
    await assertNoLeak(() => tf.tidy(() => tf.fused.matMul({ a: tf.reshape(a, [6, 4]), b, bias, transposeB: true })), 'fused matMul');
    await assertNoLeak(
      () => tf.tidy(() => tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.matMul(x, w, false, true)))([a, b])),
      'matMul gradient',
    );
    await assertNoLeak(
      () => tf.tidy(() => tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.fused.matMul({ a: x, b: w, bias, transposeB: true, activation: 'relu' })))([tf.reshape(a, [6, 4]), b])),
      'fused matMul gradient',
    );
    tf.dispose([a, b, bias, qs, ks]);
  });
});

describe('OneHot with a float dtype on wasm', () => {
  for (const [shape, dtype] of [[[6], 'float32'], [[2, 3], 'float32'], [[4], 'int32']] as const) {
    it(`indices [${shape}] as ${dtype} match cpu`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const indices = Array.from({ length: n }, (_, i) => (i * 3) % 7 - 1); // includes -1: an all-off row
      await assertSameOnBothBackends(() => tf.oneHot(tf.tensor(indices, [...shape], 'int32'), 5, 2, -0.5, dtype), `oneHot ${dtype}`);
    });
  }

  it('leaks nothing', async () => {
    await assertNoLeak(() => tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4, 1, 0, 'float32')), 'oneHot float32');
  });
});
