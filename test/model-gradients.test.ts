// The whole model's gradients: against float64 PyTorch autograd (grad.safetensors, made by
// test/fixtures/reference/make_goldens.py), on wasm against cpu, and free of leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM } from '../src/model/causal-lm';
import { causalMask, positionsFromValid } from '../src/model/attention-mask';
import { tokenLogprobs } from '../src/model/token-logprobs';
import { readSafetensors } from '../src/model/safetensors';
import { isLinearWeight } from '../src/model/params';
import { readFileSync } from 'node:fs';

const fixtures = join(__dirname, 'fixtures', 'models');
// Right-padded batch: the second row's padding must contribute nothing.
const PADDED = [
  [1, 5, 9, 33, 2, 71, 40, 11],
  [1, 17, 3, 60, 0, 0, 0, 0],
];
const PADDED_LENGTHS = [8, 4];

/** Mean log-probability of the real tokens and its gradient for every parameter (HF layout). */
function gradients(model: CausalLM, IDS: number[][] = PADDED, LENGTHS = PADDED_LENGTHS): { loss: number; grads: Map<string, Float32Array> } {
  let result: { loss: number; grads: Map<string, Float32Array> } | undefined;
  tf.tidy(() => {
    const [b, s] = [IDS.length, IDS[0].length];
    const valid = LENGTHS.map((n) => Uint8Array.from({ length: s }, (_, i) => (i < n ? 1 : 0)));
    const ids = tf.tensor2d(IDS.flat(), [b, s], 'int32');
    const targets = tf.tensor2d(IDS.map((r) => [...r.slice(1), 0]).flat(), [b, s], 'int32');
    const weight = tf.tensor2d(LENGTHS.flatMap((n) => Array.from({ length: s }, (_, i) => (i < n - 1 ? 1 : 0))), [b, s]);
    const names = [...model.params.keys()];
    const { value, grads } = tf.variableGrads(() => {
      const { hidden } = model.forward(
        { ids, positions: tf.tensor2d(positionsFromValid(valid, s), [b, s], 'int32'), mask: causalMask(valid, s, null) },
        false,
      );
      const lp = tokenLogprobs(model.logits(hidden), targets);
      return tf.div(tf.sum(tf.mul(lp, weight)), tf.sum(weight)) as tf.Scalar;
    }, names.map((n) => model.params.get(n)!));
    const byName = new Map<string, Float32Array>();
    names.forEach((n) => {
      const g = grads[model.params.get(n)!.name];
      byName.set(n, (isLinearWeight(n) ? tf.transpose(g) : g).dataSync() as Float32Array);
    });
    result = { loss: value.dataSync()[0], grads: byName };
  });
  return result!;
}

for (const name of ['qwen2-gqa-bias', 'llama-tied']) {
  test(`${name}: every parameter's gradient matches float64 PyTorch autograd (atol 2e-5 + rtol 1e-3)`, async () => {
    await initBackend('wasm');
    const dir = join(fixtures, name);
    const ids: number[] = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')).ids[0];
    const golden = await readSafetensors(join(dir, 'grad.safetensors'));
    const model = await loadCausalLM(dir);
    const ours = gradients(model, [ids], [ids.length]);
    model.dispose();
    assert.equal(ours.grads.size, golden.size);
    for (const [param, want] of golden) {
      const got = ours.grads.get(param)!;
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - want.data[i]) - 1e-3 * Math.abs(want.data[i]));
      }
      assert.ok(worst <= 2e-5, `${param}: off by ${worst}`);
    }
  });

  test(`${name}: every parameter's gradient on wasm matches cpu (rtol 1e-3, atol 1e-5)`, async () => {
    await initBackend('cpu');
    const cpuModel = await loadCausalLM(join(fixtures, name));
    const cpu = gradients(cpuModel);
    cpuModel.dispose();
    await initBackend('wasm');
    const wasmModel = await loadCausalLM(join(fixtures, name));
    const wasm = gradients(wasmModel);
    wasmModel.dispose();

    assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-5);
    for (const [param, want] of cpu.grads) {
      const got = wasm.grads.get(param)!;
      let norm = 0;
      for (let i = 0; i < want.length; i++) {
        norm += want[i] * want[i];
        assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-3 * Math.abs(want[i]), `${param}[${i}]: ${got[i]} vs ${want[i]}`);
      }
      assert.ok(norm > 0, `${param} got no gradient at all`);
    }
  });
}

test('a gradient step leaks no tensors', async () => {
  await initBackend('wasm');
  const model = await loadCausalLM(join(fixtures, 'qwen2-gqa-bias'));
  try {
    gradients(model);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) gradients(model);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});
