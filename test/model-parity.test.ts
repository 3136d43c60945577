// Parity with an independent PyTorch reference (test/fixtures/reference/): per-token
// log-probabilities of small random models must match the committed goldens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { loadCausalLM } from '../src/model/load';
import { scoreSequences } from '../src/model/score';

const MODELS = ['llama-tied', 'qwen2-gqa-bias', 'llama3-rope', 'mistral-bf16', 'llama-sharded'];
const fixtures = join(__dirname, 'fixtures', 'models');

interface Golden {
  ids: number[][];
  logprobs: (number | null)[][];
  tolerance: { atol: number };
}

useTestBackend();

for (const name of MODELS) {
  test(`${name}: log-probabilities match the PyTorch reference`, async () => {
    const dir = join(fixtures, name);
    const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Golden;
    const model = await loadCausalLM(dir);
    try {
      const got = await scoreSequences(model, golden.ids);
      let worst = 0;
      golden.logprobs.forEach((row, r) =>
        row.forEach((want, i) => {
          if (want === null) return assert.equal(got[r][i], null);
          worst = Math.max(worst, Math.abs((got[r][i] as number) - want));
        }),
      );
      assert.ok(worst <= golden.tolerance.atol, `max |diff| ${worst} exceeds atol ${golden.tolerance.atol}`);
    } finally {
      model.dispose();
    }
  });
}

test('scoring a batch equals scoring each sequence alone (padding is masked)', async () => {
  const dir = join(fixtures, 'qwen2-gqa-bias');
  const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Golden;
  const model = await loadCausalLM(dir);
  try {
    const batched = await scoreSequences(model, golden.ids);
    for (let r = 0; r < golden.ids.length; r++) {
      const [alone] = await scoreSequences(model, [golden.ids[r]]);
      alone.forEach((v, i) => {
        if (v === null) return;
        assert.ok(Math.abs(v - (batched[r][i] as number)) < 1e-5, `row ${r} pos ${i}`);
      });
    }
    const before = tf.memory().numTensors;
    await scoreSequences(model, golden.ids);
    await scoreSequences(model, golden.ids);
    assert.equal(tf.memory().numTensors, before, 'scoring leaked tensors');
  } finally {
    model.dispose();
  }
});
