// LoRA against PEFT itself. Committed: adapters PEFT wrote for three fixture models (llama
// q/v, qwen2 all-linear with rsLoRA and biases, mistral with lm_head in modules_to_save) and
// PEFT's log-probabilities with them, on, off and merged (test/fixtures/peft/). Fresh, where a
// Python with PEFT exists: adapters we write, read and scored by PEFT, and our merged folders
// scored by transformers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useTestBackend } from './helpers/backend';
import { trlPython } from './helpers/trl-python';
import type { CausalLM } from '../src/model/causal-lm';
import { loadAdapted, loadCausalLM } from '../src/model/load';
import { LoraAdapters, type AdapterValues } from '../src/model/lora';
import { readAdapterConfig, writeAdapterFolder } from '../src/model/peft-adapter';
import { Rng } from '../src/model/rng';
import { saveModel } from '../src/model/save';
import { scoreSequences } from '../src/model/score';

useTestBackend();
const root = resolve(__dirname, '..');
const fixtures = join(root, 'test', 'fixtures', 'peft');
type Scores = (number | null)[][];
interface Case {
  base: string;
  adapter: string;
  ids: number[][];
  logprobs: Scores;
  disabled: Scores;
  merged: Scores;
}
const goldens = JSON.parse(readFileSync(join(fixtures, 'goldens.json'), 'utf8')) as { cases: Record<string, Case> };
const TOLERANCE = 1e-4; // float32 forward passes in two engines (test/fixtures/reference/README.md)

function assertClose(ours: Scores, theirs: Scores, what: string): void {
  assert.equal(ours.length, theirs.length, what);
  ours.forEach((row, i) =>
    row.forEach((x, j) => {
      if (theirs[i][j] === null) return assert.equal(x, null, `${what} [${i}][${j}]`);
      assert.ok(x !== null && Math.abs(x - theirs[i][j]!) < TOLERANCE, `${what} [${i}][${j}]: ours ${x}, PEFT's ${theirs[i][j]}`);
    }),
  );
}

async function adaptedFromFolder(c: Case): Promise<CausalLM> {
  const adapterDir = join(root, c.adapter);
  const { spec } = await readAdapterConfig(adapterDir);
  return loadAdapted(join(root, c.base), { spec, from: adapterDir });
}

for (const [name, c] of Object.entries(goldens.cases)) {
  test(`an adapter PEFT wrote (${name}) scores as PEFT scores it: on, off, and merged`, async () => {
    const model = await adaptedFromFolder(c);
    const mergedDir = mkdtempSync(join(tmpdir(), `grpo-peft-merged-${name}-`));
    try {
      assertClose(await scoreSequences(model, c.ids), c.logprobs, 'adapted');
      assertClose(await model.lora!.disabled(() => scoreSequences(model, c.ids)), c.disabled, 'adapters off');
      await saveModel(model, mergedDir, { dtype: 'F32' });
    } finally {
      model.dispose();
    }
    const merged = await loadCausalLM(mergedDir);
    try {
      assertClose(await scoreSequences(merged, c.ids), c.merged, 'merged');
    } finally {
      merged.dispose();
    }
  });
}

const peft = trlPython('peft');
test(`adapters we write load in PEFT with the same log-probabilities, and our merged folders in transformers${peft.python ? '' : `: skipped (${peft.reason})`}`, { skip: !peft.python }, async () => {
  for (const [name, c] of Object.entries(goldens.cases)) {
    // PEFT's adapter as a template (targets, rank, saved modules), with values of our own.
    const template = await adaptedFromFolder(c);
    const work = mkdtempSync(join(tmpdir(), `grpo-peft-ours-${name}-`));
    const adapterDir = join(work, 'adapter');
    const mergedDir = join(work, 'merged');
    let ours: Scores;
    try {
      const rng = new Rng(11);
      const values: AdapterValues = new Map();
      for (const [key, v] of await template.lora!.values()) values.set(key, { shape: v.shape, data: v.data.map((x) => x + 0.05 * (2 * rng.next() - 1)) });
      const adapters = LoraAdapters.fromValues(template.config, template.params, template.lora!.spec, values, 'test');
      template.lora!.assign(values);
      mkdirSync(adapterDir, { recursive: true });
      await writeAdapterFolder(adapterDir, adapters, join(root, c.base));
      adapters.dispose();
      ours = await scoreSequences(template, c.ids);
      await saveModel(template, mergedDir, { dtype: 'F32' });
    } finally {
      template.dispose();
    }
    const merged = await loadCausalLM(mergedDir);
    let oursMerged: Scores;
    try {
      oursMerged = await scoreSequences(merged, c.ids);
    } finally {
      merged.dispose();
    }
    const idsFile = join(work, 'ids.json');
    writeFileSync(idsFile, JSON.stringify(c.ids));
    const script = join(fixtures, 'peft_score.py');
    const run = (args: string[]) => {
      const r = spawnSync(peft.python!, [script, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
      assert.equal(r.status, 0, `${name}: peft_score.py ${args.join(' ')}:\n${r.stderr.slice(-2000)}`);
      return JSON.parse(r.stdout) as { logprobs: Scores; disabled?: Scores };
    };
    const theirs = run(['--base', join(root, c.base), '--adapter', adapterDir, '--ids', idsFile]);
    assertClose(ours, theirs.logprobs, `${name}: our adapter under PEFT`);
    assertClose(oursMerged, theirs.logprobs, `${name}: our merged model against PEFT's adapted`);
    assertClose(run(['--model', mergedDir, '--ids', idsFile]).logprobs, theirs.logprobs, `${name}: our merged folder under transformers`);
  }
});
