// The trainer child process driven through TrainerProcess, as the extension drives it: a real
// forked out/trainer-process.js (built by `npm run build`), a real tiny model, real reward
// files and run folders.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpo } from './helpers/cli';
import { TrainerProcess, type TrainerProcessOptions } from '../src/trainer-process/client';
import { Recorder } from './helpers/trainer-recorder';
import { receiveTrainerNotification, type TrainerNotification } from '../src/protocol/trainer-messages';
import { isGone } from './helpers/process-gone';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'out', 'trainer-process.js');
const BACKEND = process.env.GRPO_TEST_BACKEND ?? 'wasm';
const work = mkdtempSync(join(tmpdir(), 'grpo-trainer-process-'));

// `silent` never scores, so its mean is NaN: it must reach the host as NaN, not null.
const REWARDS = `export function len(s: { completion: string }) { return s.completion.length; }
export function silent() { return null; }
`;

before(() => {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`);
  const r = grpo('init-model', '--arch', 'llama', '--out', join(work, 'model'), '--merges', '16', '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Hello', 'A tree', 'Sing'].map((prompt) => JSON.stringify({ prompt })).join('\n'));
  writeFileSync(join(work, 'len.reward.ts'), REWARDS);
});

/** grpo.config.json settings, relative to `work`: a few tokens per iteration, about 0.1 s each. */
function settings(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_path: 'model',
    dataset_path: 'data.jsonl',
    rewards: [{ file: 'len.reward.ts' }],
    output_dir: 'runs',
    num_iterations: 3,
    rollout_batch_size: 2,
    group_size: 2,
    minibatch_size: 4,
    max_new_tokens: 4,
    kl_coef: 0,
    checkpoint_every: 0,
    ...over,
  };
}

function launch(options: Partial<TrainerProcessOptions> = {}): { trainer: TrainerProcess; recorder: Recorder } {
  const trainer = new TrainerProcess({ script: SCRIPT, backend: BACKEND, cwd: work, ...options });
  return { trainer, recorder: new Recorder(trainer) };
}

test('a 3-iteration run reports run-started, each iteration\'s metrics and finished, in order', { timeout: 30_000 }, async () => {
  writeFileSync(join(work, 'grpo.config.json'), JSON.stringify(settings()));
  const { trainer, recorder } = launch();
  trainer.start({ configFile: join(work, 'grpo.config.json'), workspaceRoot: work }); // before ready: held until then
  const end = await trainer.ended;

  assert.deepEqual(end, { type: 'exited', code: 0, signal: null, forced: false });
  const milestones = recorder.types().filter((t) => ['ready', 'run-started', 'metrics', 'checkpoint-saved', 'finished', 'exited'].includes(t));
  assert.deepEqual(milestones, ['ready', 'run-started', 'metrics', 'metrics', 'metrics', 'checkpoint-saved', 'finished', 'exited']);
  assert.deepEqual(recorder.of('metrics').map((e) => e.iteration), [1, 2, 3]);
  assert.ok(recorder.of('run-started')[0].backend.startsWith(BACKEND), 'the backend option reaches the trainer');
  assert.deepEqual(recorder.of('finished')[0], { type: 'finished', iteration: 3, reason: 'completed', runDir: recorder.of('run-started')[0].runDir });
  const metrics = recorder.of('metrics')[0].metrics;
  assert.ok(typeof metrics.reward === 'number' && Number.isFinite(metrics.reward));
  assert.ok(Number.isNaN(metrics['rewards/silent/mean']), `rewards/silent/mean arrives as NaN, got ${String(metrics['rewards/silent/mean'])}`);
  assert.deepEqual([...recorder.of('protocol-error'), ...recorder.of('command-rejected')], []);
});

test('pause, step, set-live and resume act at iteration boundaries', { timeout: 30_000 }, async () => {
  const { trainer, recorder } = launch();
  trainer.start({ config: settings({ num_iterations: 100 }), workspaceRoot: work });
  await recorder.next('metrics');
  const pausedEvent = recorder.next('paused');
  trainer.pause();
  const at = (await pausedEvent).iteration;

  const cursor = recorder.events.length;
  const stepped = recorder.next('paused');
  trainer.setLive({ learningRate: 0.0123 });
  trainer.step();
  assert.equal((await stepped).iteration, at + 1, 'step runs exactly one iteration, then pauses again');
  assert.deepEqual(recorder.types(cursor), ['iteration-started', 'rollout-ready', 'rewards-scored', 'metrics', 'paused']);
  assert.equal(recorder.of('iteration-started', cursor)[0].learningRate, 0.0123);
  assert.equal(recorder.of('metrics', cursor)[0].metrics.learning_rate, 0.0123);

  const resumed = recorder.next('resumed');
  const later = recorder.next('metrics', (e) => e.iteration === at + 2);
  trainer.resume();
  assert.equal((await resumed).iteration, at + 1);
  await later;
  const end = await trainer.stop({ graceMs: 10_000 });
  assert.equal(end.type, 'exited');
  assert.equal(recorder.of('finished')[0].reason, 'stopped');
  assert.deepEqual(recorder.of('command-rejected'), []);
});

test('step while running is rejected with a reason, and training goes on', { timeout: 30_000 }, async () => {
  const { trainer, recorder } = launch();
  trainer.start({ config: settings({ num_iterations: 100 }), workspaceRoot: work });
  await recorder.next('metrics');
  const rejected = recorder.next('command-rejected');
  trainer.step();
  assert.deepEqual(await rejected, {
    type: 'command-rejected',
    command: 'step',
    reason: 'step: training is running; pause it first (step runs one iteration while paused)',
  });
  const rejectedLive = recorder.next('command-rejected');
  trainer.setLive({ rewardWeights: { lenght: 2 } });
  assert.match((await rejectedLive).reason, /no reward function has that name \(they are: len, silent\)/);
  await recorder.next('metrics');
  await trainer.stop({ graceMs: 10_000 });
});

test('save-checkpoint waits for the iteration boundary; stop finishes the iteration and saves; a new process resumes from it', { timeout: 30_000 }, async () => {
  const { trainer, recorder } = launch();
  trainer.start({ config: settings({ num_iterations: 100 }), workspaceRoot: work });
  await recorder.next('metrics');
  const cursor = recorder.events.length;
  const saved = recorder.next('checkpoint-saved');
  trainer.saveCheckpoint();
  const checkpoint = await saved;
  assert.ok(existsSync(join(checkpoint.path, 'trainer-state.json')));
  assert.equal(JSON.parse(readFileSync(join(checkpoint.path, 'trainer-state.json'), 'utf8')).iteration, checkpoint.iteration);
  // The trainer paused itself only to save: the host sees no pause and it carries on.
  await recorder.next('metrics', (e) => e.iteration === checkpoint.iteration + 1);
  assert.deepEqual([...recorder.of('paused', cursor), ...recorder.of('resumed', cursor)], []);

  const end = await trainer.stop({ graceMs: 10_000 });
  assert.deepEqual(end, { type: 'exited', code: 0, signal: null, forced: false });
  const finished = recorder.of('finished')[0];
  assert.equal(finished.reason, 'stopped');
  const last = recorder.of('checkpoint-saved').at(-1);
  assert.equal(last?.iteration, finished.iteration);
  assert.ok(existsSync(join(finished.runDir, 'checkpoints', `iter-${String(finished.iteration).padStart(6, '0')}`, 'trainer-state.json')));

  // A new process continues that run from the checkpoint, with the run's own settings.
  const resumed = launch();
  const started = resumed.recorder.next('run-started');
  resumed.trainer.start({ workspaceRoot: work, resumeRunDir: finished.runDir });
  const info = await started;
  assert.equal(info.resumedFrom, finished.iteration);
  assert.equal(info.runDir, finished.runDir);
  await resumed.trainer.stop({ graceMs: 10_000 });
});

test('a run that cannot start is reported as a crash with the reason and the stderr tail', { timeout: 20_000 }, async () => {
  const { trainer, recorder } = launch();
  const missing = join(work, 'no-such.config.json');
  trainer.start({ configFile: missing, workspaceRoot: work });
  const end = await trainer.ended;
  assert.equal(end.type, 'crashed');
  if (end.type !== 'crashed') return;
  assert.equal(end.code, 1);
  assert.equal(end.fatal?.userError, true);
  assert.match(end.fatal?.message ?? '', /no-such\.config\.json: cannot read the training settings \(ENOENT\)/);
  assert.match(end.stderrTail, /no-such\.config\.json: cannot read/);
  assert.deepEqual(recorder.types().at(-1), 'crashed');
});

test('a trainer killed mid-run is reported as a crash by its signal', { timeout: 20_000 }, async () => {
  const { trainer, recorder } = launch();
  trainer.start({ config: settings({ num_iterations: 100 }), workspaceRoot: work });
  await recorder.next('metrics');
  process.kill(trainer.pid ?? -1, 'SIGKILL');
  const end = await trainer.ended;
  assert.deepEqual({ ...end, stderrTail: undefined }, { type: 'crashed', code: null, signal: 'SIGKILL', stderrTail: undefined, fatal: undefined });
  assert.deepEqual(recorder.of('finished'), []);
  trainer.pause(); // after the end: dropped, not thrown
});

test('stop before start ends the idle process cleanly; a missing Node executable is a crash that says so', { timeout: 20_000 }, async () => {
  const idle = launch();
  assert.deepEqual(await idle.trainer.stop({ graceMs: 10_000 }), { type: 'exited', code: 0, signal: null, forced: false });
  assert.deepEqual(idle.recorder.types(), ['ready', 'exited']);

  const missing = launch({ nodePath: join(work, 'no-such-node') });
  missing.trainer.start({ config: settings(), workspaceRoot: work });
  const end = await missing.trainer.ended;
  assert.equal(end.type, 'crashed');
  assert.match(end.type === 'crashed' ? end.stderrTail : '', /^cannot start .*no-such-node: spawn .*ENOENT/);
});

test('a malformed command is rejected with a reason and the trainer process carries on', { timeout: 20_000 }, async () => {
  // Raw IPC, as a buggy or foreign host would send it.
  const child = fork(SCRIPT, [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const replies: TrainerNotification[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) =>
    child.on('message', (raw) => {
      const received = receiveTrainerNotification(raw);
      assert.ok(received.ok, received.ok ? '' : received.reason);
      replies.push(received.message);
      if (received.message.type === 'ready') resolve();
    }),
  );
  child.send(42);
  child.send({ type: 'launch' });
  child.send({ type: 'set-live', learningRate: 'fast' });
  child.send({ type: 'start', workspaceRoot: work });
  child.send({ type: 'pause' });
  child.send({ type: 'stop' }); // well-formed: the process ends cleanly
  assert.equal(await exited, 0);
  assert.deepEqual(
    replies.filter((r) => r.type === 'command-rejected'),
    [
      { type: 'command-rejected', command: '(42)', reason: 'message: expected an object, got 42' },
      { type: 'command-rejected', command: 'launch', reason: 'type: expected one of start, pause, resume, step, stop, set-live, save-checkpoint, got "launch"' },
      { type: 'command-rejected', command: 'set-live', reason: 'set-live message: learningRate: expected a number > 0, got "fast"' },
      {
        type: 'command-rejected',
        command: 'start',
        reason: 'start message: give configFile or config (or resumeRunDir alone to continue a run with its own settings)',
      },
      { type: 'command-rejected', command: 'pause', reason: 'no run has started in this process; send start first' },
    ],
  );
});

/** Writes a stand-in child for the host-side tests that need a child misbehaving on purpose. */
function standIn(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `process.send({ type: 'ready', pid: process.pid, node: process.version });\n${body}\n`);
  return file;
}

test('a malformed notification is dropped with a reason and later ones still arrive', { timeout: 20_000 }, async () => {
  const script = standIn(
    'garbled-child.js',
    `process.send({ type: 'metrics', iteration: 'one', metrics: {} });
process.send({ type: 'victory' });
process.send({ type: 'log', line: 'still here' }, () => process.exit(0));`,
  );
  const { trainer, recorder } = launch({ script });
  assert.deepEqual(await trainer.ended, { type: 'exited', code: 0, signal: null, forced: false });
  const [badIteration, unknownType, ...rest] = recorder.events.filter((e) => e.type !== 'ready');
  assert.deepEqual(badIteration, { type: 'protocol-error', reason: 'metrics message: iteration: expected a non-negative integer, got "one"' });
  assert.equal(unknownType.type, 'protocol-error');
  assert.match(unknownType.type === 'protocol-error' ? unknownType.reason : '', /^type: expected one of run-started, .*, fatal, got "victory"$/);
  assert.deepEqual(rest, [
    { type: 'log', line: 'still here' },
    { type: 'exited', code: 0, signal: null, forced: false },
  ]);
});

test('stop sends SIGTERM after the grace period and SIGKILL after that', { timeout: 20_000 }, async () => {
  const script = standIn('stubborn-child.js', `process.on('SIGTERM', () => console.error('ignoring SIGTERM'));\nsetInterval(() => {}, 1000);`);
  const { trainer, recorder } = launch({ script });
  await recorder.next('ready');
  const t0 = Date.now();
  const end = await trainer.stop({ graceMs: 300, killMs: 300 });
  assert.deepEqual(end, { type: 'exited', code: null, signal: 'SIGKILL', forced: true });
  assert.ok(Date.now() - t0 >= 600, `ended after ${Date.now() - t0} ms`);
  assert.ok(recorder.of('output').some((o) => o.stream === 'stderr' && o.line === 'ignoring SIGTERM'), 'SIGTERM came first');
});


test('when its parent dies, the trainer stops at the iteration boundary, saves a checkpoint and exits', { timeout: 30_000 }, async () => {
  // An editor that starts training and crashes mid-run.
  const editor = join(work, 'crashing-editor.ts');
  writeFileSync(
    editor,
    `import { TrainerProcess } from ${JSON.stringify(join(ROOT, 'src', 'trainer-process', 'client'))};
const trainer = new TrainerProcess({ script: ${JSON.stringify(SCRIPT)}, backend: ${JSON.stringify(BACKEND)} });
trainer.onEvent((e) => {
  if (e.type === 'run-started') process.stdout.write(JSON.stringify({ pid: trainer.pid, runDir: e.runDir }) + '\\n');
  if (e.type === 'metrics') process.kill(process.pid, 'SIGKILL');
});
trainer.start({ config: ${JSON.stringify(settings({ num_iterations: 1000 }))}, workspaceRoot: ${JSON.stringify(work)} });
`,
  );
  const parent = spawn(process.execPath, ['--import', 'tsx', editor], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => parent.on('exit', (_code, s) => resolve(s)));
  assert.equal(signal, 'SIGKILL');
  const { pid, runDir } = JSON.parse(out.trim().split('\n')[0]) as { pid: number; runDir: string };

  const t0 = Date.now();
  while (!isGone(pid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
  if (!isGone(pid)) {
    process.kill(pid, 'SIGKILL'); // not left training for the rest of the suite
    assert.fail(`trainer ${pid} still running ${Date.now() - t0} ms after its parent died`);
  }
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  const last = JSON.parse(metrics[metrics.length - 1]) as { iteration: number };
  const state = join(runDir, 'checkpoints', `iter-${String(last.iteration).padStart(6, '0')}`, 'trainer-state.json');
  assert.ok(existsSync(state), `${state} missing`);
  assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /finished \(stopped\)/);
});
