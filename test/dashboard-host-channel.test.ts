import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DashboardChannel, type CompletionRef, type TrainingControls } from '../src/extension/dashboard/dashboard-channel';
import { hostMessageProblem, type HostMessage, type LiveSettingsChange } from '../src/protocol/dashboard-messages';
import { writeRun } from './helpers/run-folder-fixture';

/** A channel over a fresh run folder, recording what reaches the page and the session. */
function setup(withSession: boolean) {
  const runDir = writeRun(2);
  const page: HostMessage[] = [];
  const commands: string[] = [];
  const liveChanges: LiveSettingsChange[] = [];
  const opened: CompletionRef[] = [];
  const log: string[] = [];
  const errors: string[] = [];
  const controls: TrainingControls = {
    pause: () => commands.push('pause'),
    resume: () => commands.push('resume'),
    step: () => commands.push('step'),
    stop: () => commands.push('stop'),
    setLive: (c) => liveChanges.push(c),
    status: () => ({ state: 'running', iteration: 2 }),
    live: () => ({ klCoef: 0.5 }),
    adapter: () => undefined,
  };
  const channel = new DashboardChannel(
    {
      runDir,
      decodeToken: (id) => `<${id}>`,
      controls: withSession ? controls : undefined,
      openCompletion: (ref) => opened.push(ref),
      log: (line) => log.push(line),
      showError: (m) => errors.push(m),
    },
    (m) => page.push(m),
  );
  return { runDir, channel, page, commands, liveChanges, opened, log, errors, controls };
}

test('nothing reaches the page before ready; then the snapshot, then what was held, in order', async () => {
  const { channel, page } = setup(true);
  channel.post({ type: 'status', status: { state: 'paused', iteration: 2 } });
  assert.equal(page.length, 0);
  await channel.receive({ type: 'ready' });
  assert.deepEqual(page.map((m) => m.type), ['snapshot', 'status']);
  for (const m of page) assert.equal(hostMessageProblem(m), undefined);
  const snapshot = page[0] as Extract<HostMessage, { type: 'snapshot' }>;
  assert.equal(snapshot.run.readOnly, false);
  assert.deepEqual(snapshot.status, { state: 'running', iteration: 2 });
  assert.equal(snapshot.run.settings.klCoef, 0.5, 'the session\'s live change');
  channel.post({ type: 'status', status: { state: 'running', iteration: 2 } });
  assert.equal(page.length, 3, 'delivered at once while the page is ready');
});

test('a page torn down holds messages again until its next ready, which brings a new snapshot', async () => {
  const { channel, page } = setup(true);
  await channel.receive({ type: 'ready' });
  channel.pageGone();
  channel.post({ type: 'status', status: { state: 'paused', iteration: 2 } });
  assert.equal(page.length, 1);
  await channel.receive({ type: 'ready' });
  assert.deepEqual(page.map((m) => m.type), ['snapshot', 'snapshot', 'status']);
});

test('a read-only dashboard whose run a session starts training gets a live snapshot and passes controls on', async () => {
  const { channel, page, commands, controls } = setup(false);
  await channel.receive({ type: 'ready' });
  await channel.receive({ type: 'control', action: 'pause' });
  assert.deepEqual(commands, [], 'read-only: nothing to control');
  await channel.attachControls(controls);
  assert.deepEqual(page.map((m) => m.type), ['snapshot', 'snapshot']);
  const [before, after] = page as Extract<HostMessage, { type: 'snapshot' }>[];
  assert.equal(before.run.readOnly, true);
  assert.equal(after.run.readOnly, false);
  assert.deepEqual(after.status, { state: 'running', iteration: 2 });
  await channel.receive({ type: 'control', action: 'pause' });
  assert.deepEqual(commands, ['pause']);
});

test('controls and live settings reach the session', async () => {
  const { channel, commands, liveChanges } = setup(true);
  for (const action of ['pause', 'step', 'resume', 'stop'] as const) await channel.receive({ type: 'control', action });
  await channel.receive({ type: 'live-settings', settings: { learningRate: 2e-5, rewardWeights: { exact: 2 } } });
  assert.deepEqual(commands, ['pause', 'step', 'resume', 'stop']);
  assert.deepEqual(liveChanges, [{ learningRate: 2e-5, rewardWeights: { exact: 2 } }]);
});

test('a malformed message is refused and logged, and reaches nothing', async () => {
  const { channel, commands, liveChanges, opened, log } = setup(true);
  await channel.receive({ type: 'control', action: 'format-disk' });
  await channel.receive({ type: 'live-settings', settings: { learningRate: -1 } });
  await channel.receive('<img src=x onerror=alert(1)>');
  await channel.receive({ type: 'delete-run', runDir: '/' }); // a type the protocol does not declare
  await channel.receive({ type: 'open-completion', iteration: 1, group: '../../x', member: 0 });
  assert.deepEqual(commands, []);
  assert.deepEqual(liveChanges, []);
  assert.deepEqual(opened, []);
  assert.equal(log.length, 5);
  assert.match(log[3], /type: expected one of ready, control, live-settings, request-rollouts, open-completion, got "delete-run"/);
  assert.ok(log.every((l) => l.includes('refused')));
});

test('a past run is read-only: the snapshot says so and controls reach nothing', async () => {
  const { channel, page, log } = setup(false);
  await channel.receive({ type: 'ready' });
  const snapshot = page[0] as Extract<HostMessage, { type: 'snapshot' }>;
  assert.equal(snapshot.run.readOnly, true);
  assert.equal(snapshot.status.state, 'finished');
  await channel.receive({ type: 'control', action: 'stop' });
  assert.match(log[0], /ignored "control": no training session owns this run/);
});

test('a session that ended leaves the next snapshot read-only', async () => {
  const { channel, page, commands } = setup(true);
  channel.detachControls();
  await channel.receive({ type: 'ready' });
  await channel.receive({ type: 'control', action: 'pause' });
  assert.equal((page[0] as Extract<HostMessage, { type: 'snapshot' }>).run.readOnly, true);
  assert.deepEqual(commands, []);
});

test('request-rollouts is answered from the folder; a missing iteration is logged', async () => {
  const { channel, page, log } = setup(false);
  await channel.receive({ type: 'ready' });
  await channel.receive({ type: 'request-rollouts', iteration: 1 });
  const answer = page[1];
  assert.equal(answer.type === 'rollouts' && answer.iteration, 1);
  await channel.receive({ type: 'request-rollouts', iteration: 7 });
  assert.equal(page.length, 2);
  assert.match(log[0], /no rollouts written for iteration 7/);
});

test('open-completion goes to the caller with the run folder', async () => {
  const { channel, opened, runDir } = setup(false);
  await channel.receive({ type: 'open-completion', iteration: 2, group: 0, member: 1 });
  assert.deepEqual(opened, [{ runDir, iteration: 2, group: 0, member: 1 }]);
});

test('a damaged run folder is shown to the user, not thrown into the webview handler', async () => {
  const { channel, runDir, errors, page } = setup(false);
  writeFileSync(join(runDir, 'config.json'), '{"model_path": ');
  await channel.receive({ type: 'ready' });
  assert.equal(page.length, 0);
  assert.match(errors[0], /config\.json: not JSON/);
});
