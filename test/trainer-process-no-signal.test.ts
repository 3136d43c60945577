// In the editor a run that learns nothing pauses itself: the trainer process (as the extension
// forks it) pauses at the boundary after the alarm, unasked, and resumes when the host says so.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpo } from './helpers/cli';
import { TrainerProcess, type TrainerProcessEvent } from '../src/trainer-process/client';
import { NO_SIGNAL_STREAK } from '../src/trainer/run-health';

const SCRIPT = join(__dirname, '..', 'out', 'trainer-process.js');
const work = mkdtempSync(join(tmpdir(), 'grpo-no-signal-'));

before(() => {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`);
  const r = grpo('init-model', '--arch', 'llama', '--out', join(work, 'model'), '--merges', '16', '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['ab', 'cd', 'ef', 'gh'].map((prompt) => JSON.stringify({ prompt })).join('\n'));
  writeFileSync(join(work, 'same.reward.ts'), 'export const same = () => 1;\n'); // every group flat
});

test(`after ${NO_SIGNAL_STREAK} flat iterations the run pauses by itself, and goes on when resumed`, { timeout: 60_000 }, async () => {
  const trainer = new TrainerProcess({ script: SCRIPT, backend: process.env.GRPO_TEST_BACKEND ?? 'wasm', cwd: work });
  const events: TrainerProcessEvent[] = [];
  let onPaused: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => (onPaused = resolve));
  trainer.onEvent((e) => {
    events.push(e);
    if (e.type === 'paused') onPaused();
  });
  trainer.start({
    config: { model_path: 'model', dataset_path: 'data.jsonl', rewards: [{ file: 'same.reward.ts' }], output_dir: 'runs', num_iterations: 50, rollout_batch_size: 2, group_size: 2, minibatch_size: 4, max_new_tokens: 3, kl_coef: 0, checkpoint_every: 0 },
    workspaceRoot: work,
  });
  await paused;
  const types = events.map((e) => e.type).filter((t) => ['metrics', 'no-learning-signal', 'paused'].includes(t));
  assert.deepEqual(types, [...Array(NO_SIGNAL_STREAK).fill('metrics'), 'no-learning-signal', 'paused'], 'paused at the boundary right after the alarm');
  const alarm = events.find((e): e is Extract<TrainerProcessEvent, { type: 'no-learning-signal' }> => e.type === 'no-learning-signal')!;
  assert.equal(alarm.reason, 'zero-variance');
  assert.match(alarm.message, /within every group all completions got the same reward/);

  const resumed = new Promise<void>((resolve) => trainer.onEvent((e) => e.type === 'metrics' && e.iteration === NO_SIGNAL_STREAK + 1 && resolve()));
  trainer.resume();
  await resumed;
  const end = await trainer.stop({ graceMs: 10_000 });
  assert.equal(end.type, 'exited');
  assert.equal(events.filter((e) => e.type === 'no-learning-signal').length, 1, 'the same streak does not pause again');
  assert.deepEqual(events.filter((e) => e.type === 'command-rejected' || e.type === 'protocol-error'), []);
});
