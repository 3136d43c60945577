// Paths that must stay inside their folders: a checkpoint is a real iter-N folder of its run's
// checkpoints folder (resume, Runs view, Export); a run folder listed in the Runs view is a
// real folder of its output_dir. A symbolic link pointing outside is refused or not listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointPathProblem, listCheckpoints, STATE_FILE } from '../src/trainer/checkpoint-files';
import { exportCheckpoint, modelFiles } from '../src/extension/export/export-checkpoint';
import { completeCheckpoints, listRunFolders } from '../src/extension/runs-view/run-list';

/** A run folder with a complete checkpoint iter-000001, and a "secret" model folder outside it. */
function runWithOutsideFolder() {
  const root = mkdtempSync(join(tmpdir(), 'grpo-paths-'));
  const runs = join(root, 'workspace', '.grpo', 'runs');
  const runDir = join(runs, '20261124-231500');
  const checkpoints = join(runDir, 'checkpoints');
  mkdirSync(join(checkpoints, 'iter-000001'), { recursive: true });
  writeFileSync(join(runDir, 'config.json'), '{}');
  writeFileSync(join(checkpoints, 'iter-000001', STATE_FILE), '{}');
  writeFileSync(join(checkpoints, 'iter-000001', 'config.json'), '{}');
  const outside = join(root, 'home', 'secrets');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, STATE_FILE), '{}');
  writeFileSync(join(outside, 'id_rsa'), 'PRIVATE KEY');
  writeFileSync(join(outside, 'config.json'), '{}');
  return { root, runs, runDir, checkpoints, outside };
}

test('checkpoint names: iter-N directly in the checkpoints folder; traversal, absolute paths and links are refused', () => {
  const { checkpoints, outside } = runWithOutsideFolder();
  symlinkSync(outside, join(checkpoints, 'iter-000009'));
  symlinkSync(join(checkpoints, 'iter-000001'), join(checkpoints, 'iter-000010')); // a link, even to a sibling
  const cases: [string, RegExp][] = [
    [join(checkpoints, '..', '..', '..', 'home', 'secrets'), /named iter-N/],
    [join(checkpoints, 'iter-000001', '..', '..'), /named iter-N/],
    [outside, /named iter-N/],
    [join(outside, 'iter-000001'), /not in the run's checkpoints folder/],
    [join(checkpoints, 'iter-000009'), /a symbolic link, not a checkpoint the run wrote/],
    [join(checkpoints, 'iter-000010'), /a symbolic link/],
    [join(checkpoints, 'iter-000002'), /cannot be read/],
  ];
  for (const [path, why] of cases) assert.match(checkpointPathProblem(checkpoints, path) ?? 'accepted', why, path);
  assert.equal(checkpointPathProblem(checkpoints, join(checkpoints, 'iter-000001')), undefined);
});

test('a checkpoints folder reached through a link (runs moved to another disk) is still accepted', () => {
  const { root, checkpoints } = runWithOutsideFolder();
  const linked = join(root, 'linked-checkpoints');
  symlinkSync(checkpoints, linked);
  assert.equal(checkpointPathProblem(linked, join(linked, 'iter-000001')), undefined);
});

test('resume and the Runs view list no checkpoint that links outside the run', async () => {
  const { runDir, checkpoints, outside } = runWithOutsideFolder();
  symlinkSync(outside, join(checkpoints, 'iter-000009')); // newest by number: a resume would pick it
  assert.deepEqual((await listCheckpoints(checkpoints)).map((c) => c.iteration), [1]);
  assert.deepEqual((await completeCheckpoints(runDir)).map((c) => c.iteration), [1]);
});

test('Export Model refuses a checkpoint that is a link outside, and copies nothing', async () => {
  const { root, checkpoints, outside } = runWithOutsideFolder();
  symlinkSync(outside, join(checkpoints, 'iter-000009'));
  const dest = join(root, 'exports');
  mkdirSync(dest);
  await assert.rejects(exportCheckpoint(join(checkpoints, 'iter-000009'), dest, 'x'), /iter-000009: a symbolic link/);
  await assert.rejects(modelFiles(outside), /named iter-N/);
  await assert.rejects(modelFiles(join(outside, '..', 'iter-000001')), /not in the run's checkpoints folder/);
  assert.deepEqual(await modelFiles(join(checkpoints, 'iter-000001')), ['config.json']);
});

test('the Runs view lists no run folder that is a link planted in the runs folder', async () => {
  const { root, runs, runDir } = runWithOutsideFolder();
  const elsewhere = join(root, 'elsewhere-run');
  mkdirSync(elsewhere);
  writeFileSync(join(elsewhere, 'config.json'), '{}');
  symlinkSync(elsewhere, join(runs, '20991231-000000'));
  assert.deepEqual(await listRunFolders([runs]), [runDir]);
  // output_dir itself may be a link (the runs kept on another disk): its runs are listed.
  const linkedRuns = join(root, 'linked-runs');
  symlinkSync(runs, linkedRuns);
  assert.deepEqual(await listRunFolders([linkedRuns]), [join(linkedRuns, '20261124-231500')]);
});
