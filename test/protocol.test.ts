// The trainer process protocol: what each side accepts on receipt, and the reasons it gives.
// Messages go through JSON here exactly as Node's IPC channel sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isTrainerEvent,
  messageType,
  receiveHostCommand,
  receiveTrainerNotification,
  type HostCommand,
  type TrainerNotification,
} from '../src/protocol/trainer-messages';
import { fromWire, toWire } from '../src/protocol/wire-numbers';

const overIpc = (message: object): unknown => JSON.parse(JSON.stringify(toWire(message)));

function rejection(received: { ok: true } | { ok: false; reason: string }): string {
  assert.equal(received.ok, false, 'expected the message to be rejected');
  return received.ok ? '' : received.reason;
}

test('every host command is accepted as sent', () => {
  const commands: HostCommand[] = [
    { type: 'start', configFile: '/w/grpo.config.json', workspaceRoot: '/w' },
    { type: 'start', config: { model_path: 'm' }, workspaceRoot: '/w' },
    { type: 'start', workspaceRoot: '/w', resumeRunDir: '/w/.grpo/runs/1' },
    { type: 'pause' },
    { type: 'resume' },
    { type: 'step' },
    { type: 'stop' },
    { type: 'set-live', learningRate: 1e-5, klCoef: 0, temperature: 0.7, rewardWeights: { format: -0.5 } },
    { type: 'save-checkpoint' },
  ];
  for (const c of commands) assert.deepEqual(receiveHostCommand(overIpc(c)), { ok: true, message: c });
});

test('a malformed host command is rejected with a reason naming the field', () => {
  assert.match(rejection(receiveHostCommand(42)), /^message: expected an object, got 42/);
  assert.match(rejection(receiveHostCommand({ type: 'launch' })), /type: expected one of start, pause, resume, step, stop, set-live, save-checkpoint, got "launch"/);
  assert.match(rejection(receiveHostCommand({ type: 'start', configFile: 'c.json' })), /start message: workspaceRoot: expected a non-empty path, got undefined/);
  assert.match(rejection(receiveHostCommand({ type: 'start', workspaceRoot: '/w' })), /give configFile or config/);
  assert.match(rejection(receiveHostCommand({ type: 'start', workspaceRoot: '/w', configFile: 'c.json', config: {} })), /not both/);
  assert.match(rejection(receiveHostCommand({ type: 'start', workspaceRoot: '/w', config: [] })), /config: expected an object/);
  assert.match(rejection(receiveHostCommand({ type: 'set-live', temperature: -1 })), /set-live message: temperature: expected a number > 0, got -1/);
  assert.match(rejection(receiveHostCommand({ type: 'set-live', rewardWeights: { format: 'high' } })), /rewardWeights\.format: expected a finite number/);
  // A NaN learning rate crosses the wire intact and is then refused, not read as null.
  assert.match(rejection(receiveHostCommand(overIpc({ type: 'set-live', learningRate: NaN }))), /learningRate: expected a number > 0, got NaN/);
});

test('NaN and infinite values in trainer events arrive as sent, not as null', () => {
  const metrics: TrainerNotification = {
    type: 'metrics',
    iteration: 3,
    metrics: { iteration: 3, reward: NaN, 'rewards/format/mean': -Infinity, kl: Infinity, loss: 0.25, reward_versions: { 'a.reward.ts': 'abc' } },
  };
  const wire = JSON.stringify(toWire(metrics));
  assert.ok(!wire.includes('null'), wire);
  const received = receiveTrainerNotification(JSON.parse(wire));
  assert.deepEqual(received, { ok: true, message: metrics }); // deepEqual treats NaN as equal to NaN
});

test('the marker is decoded only in its exact form', () => {
  assert.deepEqual(fromWire({ a: { $number: 'NaN', more: 1 }, b: { $number: 'seven' } }), { a: { $number: 'NaN', more: 1 }, b: { $number: 'seven' } });
  assert.deepEqual(fromWire([{ $number: '-Infinity' }, 'NaN']), [-Infinity, 'NaN']);
});

test('every kind of trainer notification is accepted; trainer events are told apart from the process\'s own', () => {
  const failed = [{ fn: 'format', errors: [{ kind: 'threw' as const, message: 'boom', stack: 'at format (a.reward.ts:3:9)', samples: [0, 2] }] }];
  const events: TrainerNotification[] = [
    { type: 'run-started', runDir: '/r', backend: 'wasm', model: '/m', parameters: 110080, resumedFrom: 2 },
    { type: 'iteration-started', iteration: 1, learningRate: 1e-5 },
    { type: 'generation-progress', iteration: 1, step: 3, maxNewTokens: 8 },
    { type: 'rollout-ready', iteration: 1, completions: 8, generateSeconds: 0.5 },
    { type: 'rewards-scored', iteration: 1, mean: NaN, std: 0, failed },
    { type: 'checkpoint-saved', iteration: 1, path: '/r/checkpoints/iter-000001' },
    { type: 'evaluation', iteration: 0, prompts: 4, reward: NaN, rewards: { format: NaN }, failures: { format: 4 }, seconds: 1.5 },
    { type: 'reward-reloaded', file: 'a.reward.ts', version: 'abc' },
    { type: 'reward-reload-failed', file: 'a.reward.ts', message: 'Expected ";"', line: 3, column: 7 },
    { type: 'paused', iteration: 1 },
    { type: 'resumed', iteration: 1 },
    { type: 'warning', message: 'w' },
    { type: 'error', message: 'e' },
    { type: 'finished', iteration: 1, reason: 'stopped', runDir: '/r' },
  ];
  const own: TrainerNotification[] = [
    { type: 'ready', pid: 123, node: 'v20.20.2' },
    { type: 'log', line: 'starting' },
    { type: 'command-rejected', command: 'step', reason: 'training is running' },
    { type: 'fatal', message: 'grpo.config.json: cannot read', userError: true },
  ];
  for (const n of [...events, ...own]) assert.deepEqual(receiveTrainerNotification(overIpc(n)), { ok: true, message: n });
  assert.deepEqual(
    [...events, ...own].map((n) => isTrainerEvent(n)),
    [...events.map(() => true), ...own.map(() => false)],
  );
});

test('a malformed trainer notification is rejected with the path of the bad value', () => {
  assert.match(rejection(receiveTrainerNotification({ type: 'metrics', iteration: 'one', metrics: {} })), /metrics message: iteration: expected a non-negative integer, got "one"/);
  assert.match(rejection(receiveTrainerNotification({ type: 'metrics', iteration: 1, metrics: { kl: [1] } })), /metrics\.kl: expected a number, a string or an object of strings, got an array/);
  const badSample = { type: 'rewards-scored', iteration: 1, mean: 0, std: 0, failed: [{ fn: 'f', errors: [{ kind: 'threw', message: 'm', samples: ['a'] }] }] };
  assert.match(rejection(receiveTrainerNotification(badSample)), /failed\[0\]\.errors\[0\]\.samples\[0\]: expected a non-negative integer/);
  assert.match(rejection(receiveTrainerNotification({ type: 'finished', iteration: 1, reason: 'bored', runDir: '/r' })), /reason: expected "completed" or "stopped" or "failed", got "bored"/);
  assert.match(rejection(receiveTrainerNotification(null)), /expected an object, got null/);
});

test('a rejection names the message by its type when it has one', () => {
  assert.equal(messageType({ type: 'set-live', learningRate: 'x' }), 'set-live');
  assert.equal(messageType('hello'), '("hello")');
  assert.equal(messageType({ kind: 'pause' }), '(an object)');
});
