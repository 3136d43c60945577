// Export Model and the Runs view's checkpoint list, on checkpoints the real trainer wrote: the
// exported folder is the model folder only, loads with the project's loader to the checkpoint's
// weights, and a refusal, a cancel or a failure leaves nothing half-written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../src/errors';
import { exportCheckpoint, exportFolderName, modelFiles } from '../src/extension/export/export-checkpoint';
import { chooseExportForm } from '../src/extension/export/export-choice';
import { completeCheckpoints, listRunFolders, readRunSummary } from '../src/extension/runs-view/run-list';
import { loadCausalLM } from '../src/model/load';
import { disposeParams, tensorsFromParams } from '../src/model/params';
import { readModelWeights } from '../src/model/weights-files';
import { Tokenizer } from '../src/tokenizer/tokenizer';
import { parseTrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';

const demo = resolve(__dirname, '..', 'examples', 'demo');
const work = mkdtempSync(join(tmpdir(), 'grpo-export-'));
let runDir: string;

before(async () => {
  const config = parseTrainingConfig(
    {
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      rewards: [{ file: resolve(demo, '..', 'rewards', 'exact-answer.reward.ts') }],
      output_dir: join(work, 'runs'),
      num_iterations: 2,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 5,
      learning_rate: 0.001,
      kl_coef: 0.04,
      checkpoint_every: 1,
      keep_checkpoints: 0,
      seed: 1,
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm', // the trainer starts it; the loader below uses it too
    },
    'test config',
  );
  const trainer = await Trainer.create(config, { workspaceRoot: resolve(demo, '..') });
  try {
    await trainer.train();
  } finally {
    await trainer.close();
  }
  runDir = trainer.run.path;
});
after(() => rmSync(work, { recursive: true, force: true }));

const checkpointOf = (iteration: number) => join(runDir, 'checkpoints', `iter-${String(iteration).padStart(6, '0')}`);

function freshDest(): string {
  return mkdtempSync(join(work, 'dest-'));
}

test('the Runs view lists the real run with its progress and both complete checkpoints, newest first', async () => {
  assert.deepEqual(await listRunFolders([join(work, 'runs')]), [runDir]);
  const summary = await readRunSummary(runDir);
  assert.equal(summary.iteration, 2);
  assert.equal(summary.total, 2);
  assert.equal(typeof summary.reward, 'number');
  assert.equal(summary.hasLog, true);
  assert.deepEqual(
    (await completeCheckpoints(runDir)).map((c) => [c.iteration, c.path, c.adapter]),
    [
      [2, checkpointOf(2), false],
      [1, checkpointOf(1), false],
    ],
  );
});

test('a full fine-tuning checkpoint is a model folder: Export asks no question and names the folder <run>-iter-N', async () => {
  const [newest] = await completeCheckpoints(runDir);
  assert.equal(newest.adapter, false);
  const form = await chooseExportForm(newest, () => {
    throw new Error('a full checkpoint has one form: nothing to ask');
  });
  assert.equal(form, 'model');
  assert.equal(exportFolderName(basename(runDir), newest.iteration), `${basename(runDir)}-iter-2`);
});

test('the export is the HF model folder without the files only a resume needs, and loads to the checkpoint weights', async () => {
  const checkpoint = checkpointOf(2);
  const inCheckpoint = readdirSync(checkpoint);
  for (const f of ['trainer-state.json', 'optimizer.safetensors']) assert.ok(inCheckpoint.includes(f), `the trainer wrote ${f}`);

  const dest = freshDest();
  const progress: [number, number][] = [];
  const name = exportFolderName(basename(runDir), 2);
  const target = await exportCheckpoint(checkpoint, dest, name, { onProgress: (done, total) => progress.push([done, total]) });

  assert.equal(target, join(dest, `${basename(runDir)}-iter-2`));
  assert.deepEqual(readdirSync(dest), [basename(target)], 'no temporary folder left beside it');
  assert.deepEqual(readdirSync(target).sort(), [
    'config.json',
    'generation_config.json',
    'model.safetensors',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.deepEqual(await modelFiles(checkpoint), readdirSync(target).sort());
  const [lastDone, total] = progress[progress.length - 1];
  assert.equal(lastDone, total);
  assert.ok(total > 0);

  const model = await loadCausalLM(target);
  try {
    const saved = await readModelWeights(checkpoint);
    const loaded = await tensorsFromParams(model.params); // back in the HF layout
    assert.deepEqual([...loaded.keys()].sort(), [...saved.keys()].sort());
    for (const [pname, t] of loaded) {
      assert.deepEqual(t.shape, saved.get(pname)!.shape, pname);
      assert.ok(t.data.every((x, i) => x === saved.get(pname)!.data[i]), `${pname} is the checkpoint's, exactly`);
    }
  } finally {
    disposeParams(model.params);
  }
  const tokenizer = await Tokenizer.load(target);
  const original = await Tokenizer.load(join(demo, 'model'));
  assert.deepEqual(tokenizer.encode('12 + 7 ='), original.encode('12 + 7 ='));
});

test('an export into an empty folder of that name fills it', async () => {
  const dest = freshDest();
  const name = exportFolderName(basename(runDir), 1);
  mkdirSync(join(dest, name));
  const target = await exportCheckpoint(checkpointOf(1), dest, name);
  assert.ok(existsSync(join(target, 'model.safetensors')));
  assert.deepEqual(readdirSync(dest), [name]);
});

test('an export refuses a folder that holds anything, and leaves it as it was', async () => {
  const dest = freshDest();
  const name = exportFolderName(basename(runDir), 1);
  mkdirSync(join(dest, name));
  writeFileSync(join(dest, name, 'notes.txt'), 'mine');
  await assert.rejects(exportCheckpoint(checkpointOf(1), dest, name), (e: Error) => e instanceof UserError && /not an empty folder/.test(e.message));
  assert.deepEqual(readdirSync(join(dest, name)), ['notes.txt']);
  assert.equal(readFileSync(join(dest, name, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(dest), [name]);
});

test('a cancelled export leaves neither the model folder nor its temporary folder', async () => {
  const dest = freshDest();
  const abort = new AbortController();
  const name = exportFolderName(basename(runDir), 2);
  await assert.rejects(
    exportCheckpoint(checkpointOf(2), dest, name, { signal: abort.signal, onProgress: () => abort.abort() }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.deepEqual(readdirSync(dest), []);
});

test('a failure while copying leaves nothing behind', async () => {
  const dest = freshDest();
  let files = 0;
  const failing = () => {
    if (++files === 2) throw new Error('disk full');
  };
  await assert.rejects(exportCheckpoint(checkpointOf(2), dest, 'model', { onProgress: failing }), /disk full/);
  assert.deepEqual(readdirSync(dest), []);
});

test('a checkpoint folder without its trainer state (a killed save) is not exported', async () => {
  const partial = join(work, 'runs', 'cut', 'checkpoints', 'iter-000009');
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'config.json'), '{}');
  const dest = freshDest();
  await assert.rejects(exportCheckpoint(partial, dest, 'x'), (e: Error) => e instanceof UserError && /not a complete checkpoint/.test(e.message));
  assert.deepEqual(readdirSync(dest), []);
});
