// Export Model on a LoRA checkpoint the real trainer wrote: the Runs view knows it is an
// adapter, Export asks which form, the adapter form is the PEFT folder, and the merged form runs
// the real `grpo merge` (out/cli.js, `npm run build` first) in a child process into a staged
// folder: a plain model that scores as the adapted one, and nothing left behind by a cancel or a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '../src/errors';
import { exportCheckpoint, exportFolderName } from '../src/extension/export/export-checkpoint';
import { ADAPTER_EXPORT_CHOICES, chooseExportForm, type ExportChoice } from '../src/extension/export/export-choice';
import { exportMerged } from '../src/extension/export/export-merged';
import { completeCheckpoints, type CheckpointEntry } from '../src/extension/runs-view/run-list';
import { loadCausalLM } from '../src/model/load';
import { readSafetensors } from '../src/model/safetensors';
import { scoreSequences } from '../src/model/score';
import { parseTrainingConfig } from '../src/trainer/config';

import { grpo } from './helpers/cli';
import { trainToEnd } from './helpers/train-run';

const CLI = join(__dirname, '..', 'out', 'cli.js');
const BACKEND = process.env.GRPO_TEST_BACKEND ?? 'wasm';
const work = mkdtempSync(join(tmpdir(), 'grpo-export-lora-'));
const model = join(work, 'model');
let checkpoint: CheckpointEntry;

before(async () => {
  const r = grpo('init-model', '--arch', 'qwen2', '--out', model, '--merges', '32', '--seed', '7');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(work, 'vowels.reward.ts'), 'export function vowels(s: { completion: string }) {\n  return (s.completion.match(/[aeiou]/g) ?? []).length;\n}\n');
  const config = parseTrainingConfig(
    {
      model_path: model,
      dataset_path: join(work, 'data.jsonl'),
      rewards: [{ file: join(work, 'vowels.reward.ts') }],
      output_dir: join(work, 'runs'),
      num_iterations: 2,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 4,
      max_new_tokens: 6,
      learning_rate: 0.05, // large, so that the merged weights differ visibly from the base
      kl_coef: 0.05,
      checkpoint_every: 2,
      keep_checkpoints: 0,
      lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] },
      backend: BACKEND, // the trainer starts it; the loaders below use it too
    },
    'test config',
  );
  const run = await trainToEnd(config, work);
  [checkpoint] = await completeCheckpoints(run.runDir);
});
after(() => rmSync(work, { recursive: true, force: true }));

const freshDest = () => mkdtempSync(join(work, 'dest-'));
const mergeOptions = (signal?: AbortSignal) => ({ cliScript: CLI, backend: BACKEND, signal });
const IDS = [[1, 5, 9, 14, 3, 7], [2, 8, 8, 4]];

test('the LoRA checkpoint is listed as an adapter, and Export asks for adapter or merged model', async () => {
  assert.equal(checkpoint.iteration, 2);
  assert.equal(checkpoint.adapter, true);
  let offered: readonly ExportChoice[] = [];
  const form = await chooseExportForm(checkpoint, async (choices) => {
    offered = choices;
    return choices.find((c) => c.form === 'merged');
  });
  assert.equal(form, 'merged');
  assert.deepEqual(offered.map((c) => c.label), ['PEFT adapter', 'Merged model']);
  assert.equal(await chooseExportForm(checkpoint, async () => undefined), undefined, 'dismissed: no export');
  assert.equal(exportFolderName(basename(checkpoint.runDir), 2, 'merged'), `${basename(checkpoint.runDir)}-iter-2-merged`);
  assert.deepEqual(ADAPTER_EXPORT_CHOICES.map((c) => c.form), ['adapter', 'merged']);
});

test('the adapter form is the PEFT folder: adapter config and weights and the tokenizer, without the resume files', async () => {
  const dest = freshDest();
  const target = await exportCheckpoint(checkpoint.path, dest, 'adapter');
  const files = readdirSync(target).sort();
  assert.ok(files.includes('adapter_config.json') && files.includes('adapter_model.safetensors') && files.includes('tokenizer.json'), files.join(', '));
  for (const f of ['config.json', 'model.safetensors', 'trainer-state.json', 'optimizer.safetensors']) assert.ok(!files.includes(f), `${f} is not in an adapter export`);
  assert.equal(JSON.parse(readFileSync(join(target, 'adapter_config.json'), 'utf8')).peft_type, 'LORA');
});

test('the merged form, through the real grpo merge: a plain HF model folder that scores as the adapted checkpoint', async () => {
  const dest = freshDest();
  const name = exportFolderName(basename(checkpoint.runDir), checkpoint.iteration, 'merged');
  const target = await exportMerged(checkpoint.path, dest, name, mergeOptions());
  assert.equal(target, join(dest, name));
  assert.deepEqual(readdirSync(dest), [name], 'no temporary folder left beside it');
  const files = readdirSync(target);
  assert.ok(files.includes('config.json') && files.includes('model.safetensors') && files.includes('tokenizer.json'), files.join(', '));
  assert.deepEqual(files.filter((f) => f.startsWith('adapter_')), [], 'no adapter files');
  const tensors = [...(await readSafetensors(join(target, 'model.safetensors'))).keys()];
  assert.deepEqual(tensors.filter((n) => n.includes('lora')), [], 'no LoRA tensors: the adapter is folded in');

  const merged = await loadCausalLM(target);
  const adapted = await loadCausalLM(checkpoint.path);
  const base = await loadCausalLM(model);
  try {
    assert.equal(merged.lora, undefined);
    const m = (await scoreSequences(merged, IDS)).flat();
    const a = (await scoreSequences(adapted, IDS)).flat();
    const b = (await scoreSequences(base, IDS)).flat();
    const tolerance = 1e-4; // f32 sums in another order
    for (let i = 0; i < a.length; i++) if (a[i] !== null) assert.ok(Math.abs(a[i]! - m[i]!) < tolerance, `position ${i}: adapted ${a[i]}, merged ${m[i]}`);
    assert.ok(a.some((x, i) => x !== null && Math.abs(x - b[i]!) > tolerance), 'the adapter had learned something, so the check above means something');
  } finally {
    merged.dispose();
    adapted.dispose();
    base.dispose();
  }
});

test('a merge cancelled after grpo merge has written the whole model leaves neither the model folder nor its temporary folder', async () => {
  // The tiny merge takes a fraction of a second, so the real CLI is held, by a preload, at the
  // moment it would print its success line: every file is written, the process has not ended.
  const hold = join(work, 'hold-before-success.js');
  writeFileSync(
    hold,
    `const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).startsWith('wrote ')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
  return write(chunk, ...rest);
};
`,
  );
  const dest = freshDest();
  const abort = new AbortController();
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --require ${hold}`.trim(); // read by the child at its start
  try {
    const merging = exportMerged(checkpoint.path, dest, 'model', mergeOptions(abort.signal));
    const written = () => {
      const [partial] = readdirSync(dest);
      return partial !== undefined && ['config.json', 'model.safetensors', 'tokenizer.json'].every((f) => existsSync(join(dest, partial, f)));
    };
    while (!written()) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(readdirSync(dest).filter((f) => !f.startsWith('.')), [], 'only the hidden temporary folder so far');
    abort.abort();
    await assert.rejects(merging, (e: Error) => e.name === 'AbortError');
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  }
  assert.deepEqual(readdirSync(dest), []);
});

test('a failed merge reports the CLI\'s own one-line reason and leaves nothing', async () => {
  // An adapter whose base model folder has gone: grpo merge refuses it naming the field.
  const moved = join(work, 'moved-run', 'checkpoints', 'iter-000002'); // a checkpoint folder, as Export takes one
  cpSync(checkpoint.path, moved, { recursive: true });
  const config = JSON.parse(readFileSync(join(moved, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(moved, 'adapter_config.json'), JSON.stringify({ ...config, base_model_name_or_path: join(work, 'gone') }));
  const dest = freshDest();
  await assert.rejects(exportMerged(moved, dest, 'model', mergeOptions()), (e: Error) => {
    assert.ok(e instanceof UserError, e.message);
    assert.match(e.message, /^merge failed, nothing was written: .*adapter_config\.json: base_model_name_or_path ".*gone" is not a model folder here/);
    assert.doesNotMatch(e.message, /grpo merge:|\n/, 'one line, without the CLI\'s prefix');
    return true;
  });
  assert.deepEqual(readdirSync(dest), []);

  const noNode = join(work, 'no-such-node');
  await assert.rejects(exportMerged(checkpoint.path, dest, 'model', { ...mergeOptions(), nodePath: noNode }), new RegExp(`cannot start ${noNode}: no such executable; fix the grpo.nodePath setting`));
  assert.deepEqual(readdirSync(dest), []);
});

test('a merged export refuses a full fine-tuning checkpoint and an occupied target before starting grpo merge', async () => {
  const full = join(work, 'full-run', 'checkpoints', 'iter-000001');
  cpSync(model, full, { recursive: true });
  writeFileSync(join(full, 'trainer-state.json'), '{}');
  const dest = freshDest();
  await assert.rejects(exportMerged(full, dest, 'model', mergeOptions()), (e: Error) => e instanceof UserError && /not a LoRA adapter checkpoint/.test(e.message));
  writeFileSync(join(dest, 'model'), 'mine');
  await assert.rejects(exportMerged(checkpoint.path, dest, 'model', mergeOptions()), (e: Error) => e instanceof UserError && /already exists/.test(e.message));
  assert.deepEqual(readdirSync(dest), ['model']);
  assert.equal(existsSync(join(full, 'adapter_config.json')), false);
});
