import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { hostMessageProblem, type MetricsLine } from '../src/protocol/dashboard-messages';
import { DashboardEvents } from '../src/run-folder/event-messages';
import { RunFolder } from '../src/run-folder/run-folder';
import { snapshotMessage } from '../src/run-folder/snapshot';
import { tokenTexts } from '../src/run-folder/token-text';
import { writeRun } from './helpers/run-folder-fixture';

const decodeToken = (id: number) => `<${id}>`;

test('metrics.jsonl: a last line cut off by a kill is dropped, NaN values read as null', async () => {
  const metrics = await new RunFolder(writeRun(2)).metrics();
  assert.deepEqual(metrics.map((m) => m.iteration), [1, 2]);
  assert.equal(metrics[1].reward, null);
});

test('metrics.jsonl: a damaged line before the last is a UserError naming the file and line', async () => {
  const dir = writeRun(1);
  writeFileSync(join(dir, 'metrics.jsonl'), '{"iteration": 1}\n{oops\n{"iteration": 2}\n');
  await assert.rejects(new RunFolder(dir).metrics(), (e: Error) => e instanceof UserError && e.message.includes('metrics.jsonl: line 2'));
});

test('a folder without config.json is refused with a message that says what to open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-not-run-'));
  await assert.rejects(new RunFolder(dir).config(), (e: Error) => e instanceof UserError && /config\.json: not found/.test(e.message));
});

test('rollouts: iterations listed ascending; each completion gets one decoded token per id', async () => {
  const folder = new RunFolder(writeRun(3));
  assert.deepEqual(await folder.rolloutIterations(), [1, 2, 3]);
  const rollouts = await folder.rollouts(2, decodeToken);
  assert.ok(rollouts);
  assert.deepEqual(rollouts[0].tokens, ['<7>', '<2>']);
  assert.equal(await folder.rollouts(4, decodeToken), undefined);
});

test('rollouts: a record missing a field is a UserError naming the file', async () => {
  const dir = writeRun(1);
  writeFileSync(join(dir, 'rollouts', 'iter-000001.jsonl'), JSON.stringify({ group: 0 }) + '\n');
  await assert.rejects(new RunFolder(dir).rollouts(1, decodeToken), (e: Error) => e instanceof UserError && e.message.includes('iter-000001.jsonl'));
});

test('reward failures: only iterations whose functions failed, with their errors', async () => {
  const failures = await new RunFolder(writeRun(2)).rewardFailures();
  assert.deepEqual(failures.map((f) => f.iteration), [1]);
  assert.equal(failures[0].failed[0].errors[0].message, 'boom');
});

test('snapshot of a past run: read-only, finished, valid, with the latest rollouts and run settings', async () => {
  const dir = writeRun(3);
  const snapshot = await snapshotMessage(new RunFolder(dir), { readOnly: true, decodeToken });
  assert.equal(hostMessageProblem(snapshot), undefined);
  assert.equal(snapshot.run.readOnly, true);
  assert.equal(snapshot.run.groupSize, 2);
  assert.equal(snapshot.run.maxNewTokens, 16);
  assert.deepEqual(snapshot.status, { state: 'finished', iteration: 3 });
  assert.deepEqual(snapshot.rolloutIterations, [1, 2, 3]);
  assert.equal(snapshot.rollouts?.iteration, 3);
  assert.equal(snapshot.rewardFailures.length, 1);
  // The schedule's last learning rate; weights from the config: "exact" comes from the one entry
  // that takes all its file's functions, "brevity" is named by its entry.
  assert.deepEqual(snapshot.run.settings, { learningRate: 3e-4, klCoef: 0.1, temperature: 1, rewardWeights: { brevity: 0.5, exact: 2 } });
});

test('snapshot of a live run: the session status and live changes win', async () => {
  const snapshot = await snapshotMessage(new RunFolder(writeRun(1)), {
    readOnly: false,
    status: { state: 'paused', iteration: 1 },
    live: { temperature: 0.7, rewardWeights: { exact: 3 } },
    decodeToken,
  });
  assert.equal(snapshot.run.readOnly, false);
  assert.equal(snapshot.status.state, 'paused');
  assert.equal(snapshot.run.settings.temperature, 0.7);
  assert.deepEqual(snapshot.run.settings.rewardWeights, { brevity: 0.5, exact: 3 });
});

test('snapshot of a run with no iterations yet: no rollouts, empty metrics', async () => {
  const snapshot = await snapshotMessage(new RunFolder(writeRun(0)), { readOnly: false, status: { state: 'starting', iteration: 0 }, decodeToken });
  assert.equal(hostMessageProblem(snapshot), undefined);
  assert.equal(snapshot.rollouts, null);
  assert.deepEqual(snapshot.metrics, []);
});

test('trainer events: metrics bring that iteration\'s rollouts; failures, pauses and the end become messages', async () => {
  const events = new DashboardEvents(new RunFolder(writeRun(2)), decodeToken);
  const started = await events.messagesFor({ type: 'run-started', runDir: '', backend: 'cpu', model: 'm', parameters: 1 });
  assert.deepEqual(started, [{ type: 'status', status: { state: 'running', iteration: 0 } }]);

  const metrics = await events.messagesFor({ type: 'metrics', iteration: 2, metrics: { iteration: 2, kl: NaN, reward: 1 } });
  assert.deepEqual(metrics.map((m) => m.type), ['metrics', 'rollouts', 'status']);
  assert.deepEqual(metrics[2], { type: 'status', status: { state: 'running', iteration: 2 } }, 'the status line counts the iteration done');
  for (const m of metrics) assert.equal(hostMessageProblem(m), undefined);
  assert.equal(metrics[0].type === 'metrics' && (metrics[0].metrics as MetricsLine).kl, null);

  const failed = [{ fn: 'exact', errors: [{ kind: 'timeout' as const, message: 'over 1000 ms', samples: [1, 2] }] }];
  assert.deepEqual(await events.messagesFor({ type: 'rewards-scored', iteration: 3, mean: 0, std: 0, failed }), [{ type: 'reward-failures', iteration: 3, failed }]);
  assert.deepEqual(await events.messagesFor({ type: 'rewards-scored', iteration: 3, mean: 0, std: 0, failed: [] }), []);

  const evaluation = await events.messagesFor({ type: 'evaluation', iteration: 2, prompts: 4, reward: NaN, rewards: { exact: 0.5 }, failures: { exact: 1 }, seconds: 3 });
  assert.deepEqual(evaluation, [{ type: 'evaluation', evaluation: { iteration: 2, prompts: 4, reward: null, rewards: { exact: 0.5 } } }]);
  assert.equal(hostMessageProblem(evaluation[0]), undefined);

  assert.deepEqual(await events.messagesFor({ type: 'paused', iteration: 2 }), [{ type: 'status', status: { state: 'paused', iteration: 2 } }]);
  assert.deepEqual(await events.messagesFor({ type: 'error', message: 'out of memory' }), [{ type: 'status', status: { state: 'failed', iteration: 2, message: 'out of memory' } }]);
  const end = await events.messagesFor({ type: 'finished', iteration: 2, reason: 'failed', runDir: '' });
  assert.deepEqual(end, [{ type: 'status', status: { state: 'failed', iteration: 2, message: 'out of memory' } }]);
  assert.deepEqual(events.status, { state: 'failed', iteration: 2, message: 'out of memory' });
  assert.deepEqual(await events.messagesFor({ type: 'warning', message: 'x' }), []);
});

test('token texts: each id decoded once, special tokens kept', () => {
  const calls: { ids: number[]; skip: boolean | undefined }[] = [];
  const decode = tokenTexts({
    decode: (ids, opts) => {
      calls.push({ ids, skip: opts?.skipSpecialTokens });
      return `t${ids[0]}`;
    },
  });
  assert.deepEqual([5, 6, 5, 5].map(decode), ['t5', 't6', 't5', 't5']);
  assert.deepEqual(calls, [{ ids: [5], skip: false }, { ids: [6], skip: false }]);
});
