// A saved model is an HF folder that we, and an independent reader, load back unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from './helpers/backend';
import { grpo } from './helpers/cli';
import { loadCausalLM } from '../src/model/load';
import { saveModel } from '../src/model/save';
import { scoreSequences } from '../src/model/score';
import { readSafetensorsHeader } from '../src/model/safetensors';

const fixtures = join(__dirname, 'fixtures', 'models');
const work = mkdtempSync(join(tmpdir(), 'grpo-save-'));
const IDS = [[1, 5, 9, 33, 2, 71, 40, 11], [1, 17, 3]];
useTestBackend();

test('F32 save and reload gives identical log-probabilities; BF16 stays close', async () => {
  const model = await loadCausalLM(join(fixtures, 'qwen2-gqa-bias'));
  try {
    const before = await scoreSequences(model, IDS);
    await saveModel(model, join(work, 'f32'), { dtype: 'F32' });
    await saveModel(model, join(work, 'bf16'), { dtype: 'BF16' });
    const header = await readSafetensorsHeader(join(work, 'bf16', 'model.safetensors'));
    assert.equal(header.metadata.format, 'pt');
    assert.ok([...header.entries.values()].every((e) => e.dtype === 'BF16'));
    assert.equal(JSON.parse(readFileSync(join(work, 'bf16', 'config.json'), 'utf8')).torch_dtype, 'bfloat16');

    for (const [name, atol] of [['f32', 0], ['bf16', 0.05]] as const) {
      const reloaded = await loadCausalLM(join(work, name));
      const after = await scoreSequences(reloaded, IDS);
      reloaded.dispose();
      after.forEach((row, r) => row.forEach((v, i) => {
        if (v === null) return;
        assert.ok(Math.abs(v - (before[r][i] as number)) <= atol, `${name} row ${r} pos ${i}: ${v} vs ${before[r][i]}`);
      }));
    }
  } finally {
    model.dispose();
  }
});

test('saving keeps the tokenizer files next to the weights', async () => {
  const src = join(work, 'with-tokenizer');
  assert.equal(grpo('init-model', '--arch', 'llama', '--out', src, '--merges', '16').code, 0);
  const model = await loadCausalLM(src);
  try {
    await saveModel(model, join(work, 'copy'), { dtype: 'F32', tokenizerDir: src });
  } finally {
    model.dispose();
  }
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) {
    assert.ok(existsSync(join(work, 'copy', f)), `${f} was not copied`);
  }
});

// The PyTorch reference (test/fixtures/reference/) reads our folders with its own safetensors
// reader; .ci/run installs Debian's python3-torch so this runs in CI.
const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

test('the PyTorch reference loads a folder written by init-model and agrees with our scores', { skip: hasTorch ? false : 'Debian python3-torch is not installed' }, async () => {
  for (const arch of ['llama', 'qwen2', 'mistral']) {
    const dir = join(work, `ref-${arch}`);
    const init = grpo('init-model', '--arch', arch, '--out', dir, '--merges', '16', '--untied', '--dtype', arch === 'mistral' ? 'bf16' : 'f32');
    assert.equal(init.code, 0, init.stderr);
    const ids = [0, 40, 41, 200, 7, 99, 12];
    const ref = spawnSync(python, [join(__dirname, 'fixtures', 'reference', 'llama_reference.py'), dir, ...ids.map(String)], { encoding: 'utf8' });
    assert.equal(ref.status, 0, ref.stderr);
    const want = JSON.parse(ref.stdout) as (number | null)[];
    const ours = JSON.parse(grpo('score', '--model', dir, '--ids', ids.join(','), '--json').stdout).logprobs as (number | null)[];
    want.forEach((w, i) => {
      if (w === null) return assert.equal(ours[i], null);
      assert.ok(Math.abs((ours[i] as number) - w) < 1e-4, `${arch} position ${i}: ${ours[i]} vs reference ${w}`);
    });
  }
});
