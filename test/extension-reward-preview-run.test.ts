// The extension's side of a reward preview without VS Code: the CLI run as a child process on a
// real run folder, its report checked on receipt, and its failures turned into one message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chooseRunDir, problemLocation, rewardFilesFor } from '../src/extension/reward-preview/preview-target';
import { runRescore } from '../src/extension/reward-preview/rescore-process';
import { ANSWER_REWARD, trainRun } from './helpers/rescore-run';

const cliScript = resolve(__dirname, '..', 'out', 'cli.js');
const run = trainRun();
const options = { cliScript, cwd: run.workspace, runDir: run.runDir, workspaceTrusted: true };

test('a preview of an unchanged reward reports the recorded rewards and advantages', async () => {
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  const outcome = await runRescore(options);
  assert.equal(outcome.type, 'report', JSON.stringify(outcome));
  if (outcome.type !== 'report') return;
  assert.equal(outcome.report.runDir, run.runDir);
  assert.equal(outcome.report.samples.length, 16);
  assert.deepEqual(outcome.report.rewards.map((r) => r.file), ['answer.reward.ts'], 'names relative to the workspace');
  for (const s of outcome.report.samples) {
    assert.equal(s.newReward, s.oldReward);
    assert.equal(s.newAdvantage, s.oldAdvantage);
  }
});

test('a reward that does not compile fails with one message that locates the file and line', async () => {
  writeFileSync(run.rewardFile, 'export function broken(): number {\n  return 1\n  const = 3;\n}\n');
  const outcome = await runRescore(options);
  writeFileSync(run.rewardFile, ANSWER_REWARD);
  assert.equal(outcome.type, 'failed');
  if (outcome.type !== 'failed') return;
  assert.match(outcome.message, /^answer\.reward\.ts:3:\d+: /);
  assert.doesNotMatch(outcome.message, /\n/);
  assert.deepEqual(problemLocation(outcome.message, run.workspace), { file: run.rewardFile, line: 3, column: Number(/:3:(\d+):/.exec(outcome.message)![1]) });
});

test('a Node path that does not exist names the setting to fix', async () => {
  const outcome = await runRescore({ ...options, nodePath: join(run.workspace, 'no-such-node') });
  assert.deepEqual(outcome, { type: 'failed', message: `cannot start ${join(run.workspace, 'no-such-node')}: no such executable; fix the grpo.nodePath setting` });
});

test('a cancelled preview ends the child and reports cancelled', async () => {
  const abort = new AbortController();
  const pending = runRescore({ ...options, signal: abort.signal });
  abort.abort();
  assert.deepEqual(await pending, { type: 'cancelled' });
});

test('the run previewed: the live one, else the newest by run id', () => {
  const runs = ['/w/a/.grpo/runs/20261101-101500', '/w/b/.grpo/runs/20261124-090000', '/w/a/.grpo/runs/20261120-120000-2'];
  assert.equal(chooseRunDir(undefined, runs), '/w/b/.grpo/runs/20261124-090000');
  assert.equal(chooseRunDir('/w/live', runs), '/w/live');
  assert.equal(chooseRunDir(undefined, []), undefined);
});

test('previewing a reward file the run does not use adds it to the run files; one it uses changes nothing', () => {
  const own = ['/w/rewards/a.reward.ts', '/w/rewards/b.reward.ts'];
  assert.equal(rewardFilesFor(undefined, own), undefined);
  assert.equal(rewardFilesFor('/w/rewards/b.reward.ts', own), undefined);
  assert.deepEqual(rewardFilesFor('/w/rewards/c.reward.ts', own), [...own, '/w/rewards/c.reward.ts']);
});

test('problem locations come only from "file:line:column: " at the start of a message', () => {
  assert.deepEqual(problemLocation('rewards/my file.reward.ts:12:5: Expected ";"', '/w'), { file: '/w/rewards/my file.reward.ts', line: 12, column: 5 });
  assert.equal(problemLocation('reward files a.reward.ts: Cannot find module', '/w'), undefined);
  assert.equal(problemLocation('/runs/x/rollouts: no rollouts yet', '/w'), undefined);
});
