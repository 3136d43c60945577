// What the Runs view reads from the disk: run folders under each config's output_dir, progress
// from the last whole metrics line, and only complete checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runDescription } from '../src/extension/runs-view/node-text';
import { completeCheckpoints, listRunFolders, outputDirOf, readRunSummary, type RunSummary } from '../src/extension/runs-view/run-list';
import { checkpointOf, runChildren, runDirOf } from '../src/extension/runs-view/run-nodes';
import { writeRun } from './helpers/run-folder-fixture';

function checkpoint(runDir: string, name: string, complete: boolean): void {
  mkdirSync(join(runDir, 'checkpoints', name), { recursive: true });
  writeFileSync(join(runDir, 'checkpoints', name, 'config.json'), '{}');
  if (complete) writeFileSync(join(runDir, 'checkpoints', name, 'trainer-state.json'), '{}');
}

test('output_dir is read from the config, relative to its folder, with the default when unset or unreadable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-runs-config-'));
  writeFileSync(join(dir, 'set.json'), JSON.stringify({ output_dir: 'out/runs' }));
  writeFileSync(join(dir, 'unset.json'), JSON.stringify({ model_path: 'm' }));
  writeFileSync(join(dir, 'broken.json'), '{ "output_dir": ');
  assert.equal(await outputDirOf(join(dir, 'set.json')), join(dir, 'out', 'runs'));
  assert.equal(await outputDirOf(join(dir, 'unset.json')), join(dir, '.grpo', 'runs'));
  assert.equal(await outputDirOf(join(dir, 'broken.json')), join(dir, '.grpo', 'runs'));
  assert.equal(await outputDirOf(join(dir, 'missing.json')), join(dir, '.grpo', 'runs'));
});

test('run folders are the folders with a config snapshot, newest first across output folders; a missing output folder is none', async () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-runs-list-'));
  const a = join(root, 'a');
  const b = join(root, 'b');
  for (const [dir, name] of [
    [a, '20260101-100000'],
    [b, '20260102-090000'],
    [a, '20260103-080000'],
  ]) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'config.json'), '{}');
  }
  mkdirSync(join(a, 'not-a-run'));
  writeFileSync(join(a, 'stray.txt'), '');
  const runs = await listRunFolders([a, b, join(root, 'none'), a]);
  assert.deepEqual(runs.map((r) => basename(r)), ['20260103-080000', '20260102-090000', '20260101-100000']);
});

test('a run summary: iteration and reward from the last whole metrics line, total from the snapshot, complete checkpoints newest first', async () => {
  const run = writeRun(3, { num_iterations: 50 }); // its metrics end in a line cut mid-write
  checkpoint(run, 'iter-000002', true);
  checkpoint(run, 'iter-000010', true);
  checkpoint(run, 'iter-000011', false); // killed while saving
  mkdirSync(join(run, 'checkpoints', '.partial-iter-000012-99'));
  const summary = await readRunSummary(run);
  assert.equal(summary.name, basename(run));
  assert.equal(summary.iteration, 3);
  assert.equal(summary.total, 50);
  assert.equal(summary.reward, 0.5);
  assert.equal(summary.hasLog, false);
  assert.deepEqual(summary.checkpoints.map((c) => c.iteration), [10, 2]);
  assert.deepEqual(await completeCheckpoints(run), summary.checkpoints);

  // The save finishes: the partial folder is renamed into place with its state file.
  writeFileSync(join(run, 'checkpoints', '.partial-iter-000012-99', 'trainer-state.json'), '{}');
  renameSync(join(run, 'checkpoints', '.partial-iter-000012-99'), join(run, 'checkpoints', 'iter-000012'));
  assert.deepEqual((await completeCheckpoints(run)).map((c) => c.iteration), [12, 10, 2]);
});

test('a run that has not finished an iteration has no progress, and an all-failed reward reads n/a', async () => {
  const run = writeRun(0);
  writeFileSync(join(run, 'metrics.jsonl'), '');
  const fresh = await readRunSummary(run);
  assert.equal(fresh.iteration, undefined);
  assert.equal(fresh.total, 100, 'num_iterations defaults when the snapshot has none');
  assert.equal(runDescription(fresh, false), 'no iterations');
  assert.equal(runDescription(fresh, true), 'training · starting');

  writeFileSync(join(run, 'metrics.jsonl'), '{"iteration": 1, "reward": 0.25}\n{"iteration": 2, "reward": null}\n');
  const failed = await readRunSummary(run);
  assert.equal(runDescription(failed, false), 'iter 2/100 · reward n/a');

  // A long run: only the file's end is read, and the line cut at its start is skipped.
  const padding = 'x'.repeat(900);
  const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ iteration: i + 1, reward: (i + 1) / 1000, note: padding }));
  writeFileSync(join(run, 'metrics.jsonl'), lines.join('\n') + '\n');
  const long = await readRunSummary(run);
  assert.equal(long.iteration, 400);
  assert.equal(long.reward, 0.4);
});

test('descriptions: progress and reward, led by "training" for the live run', () => {
  const run: RunSummary = { path: '/r', name: 'r', iteration: 42, total: 600, reward: 0.6123, checkpoints: [], hasLog: true };
  assert.equal(runDescription(run, false), 'iter 42/600 · reward 0.612');
  assert.equal(runDescription(run, true), 'training · iter 42/600 · reward 0.612');
});

test('a run node has its dashboard, its log when written, then its checkpoints; commands find the run and checkpoint they were given', () => {
  const cp = { runDir: '/r', iteration: 4, path: '/r/checkpoints/iter-000004', adapter: false };
  const run: RunSummary = { path: '/r', name: 'r', checkpoints: [cp], hasLog: true };
  const children = runChildren(run);
  assert.deepEqual(children.map((c) => c.kind), ['dashboard', 'log', 'checkpoint']);
  assert.deepEqual(runChildren({ ...run, hasLog: false }).map((c) => c.kind), ['dashboard', 'checkpoint']);
  assert.deepEqual(children.map(runDirOf), ['/r', '/r', '/r']);
  assert.equal(runDirOf({ kind: 'run', run, training: false }), '/r');
  assert.equal(runDirOf('/elsewhere'), '/elsewhere');
  assert.equal(runDirOf(undefined), undefined);
  assert.equal(checkpointOf(children[2]), cp);
  assert.equal(checkpointOf(children[0]), undefined);
  assert.equal(checkpointOf(undefined), undefined);
});
