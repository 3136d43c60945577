// GRPO: Resume Run: the start command built for a stopped run continues it in a real trainer
// process from its newest checkpoint; a run with nothing left to do, or no checkpoint, is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareResume } from '../src/extension/start-config';
import { TrainerProcess } from '../src/trainer-process/client';
import { trainRun } from './helpers/rescore-run';

const SCRIPT = resolve(__dirname, '..', 'out', 'trainer-process.js');

test('a stopped run resumes from its newest checkpoint with its own settings; a finished one is refused', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`);
  const { workspace, runDir } = trainRun(); // 2 of 2 iterations done, checkpoint at 2
  await assert.rejects(prepareResume(runDir, workspace), /num_iterations is 2 and the run has done them all/);

  // As if the run had been stopped at 2 of 4.
  const configFile = join(runDir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), num_iterations: 4 }));
  const prepared = await prepareResume(runDir, workspace);
  assert.deepEqual(prepared.start, { resumeRunDir: runDir, workspaceRoot: workspace });
  assert.equal(prepared.config.num_iterations, 4);

  const trainer = new TrainerProcess({ script: SCRIPT, backend: 'wasm', cwd: workspace });
  const seen: string[] = [];
  trainer.onEvent((e) => {
    if (e.type === 'run-started') seen.push(`started from ${e.resumedFrom}`);
    if (e.type === 'metrics') seen.push(`metrics ${e.iteration}`);
    if (e.type === 'finished') seen.push(`finished ${e.iteration} ${e.reason}`);
  });
  trainer.start(prepared.start);
  assert.equal((await trainer.ended).type, 'exited');
  assert.deepEqual(seen, ['started from 2', 'metrics 3', 'metrics 4', 'finished 4 completed']);
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).iteration);
  assert.deepEqual(lines, [1, 2, 3, 4], 'the same run folder, continued');

  rmSync(join(runDir, 'checkpoints'), { recursive: true });
  await assert.rejects(prepareResume(runDir, workspace), /checkpoints: no complete checkpoint to resume from/);
});
