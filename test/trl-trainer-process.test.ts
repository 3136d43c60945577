// The editor's controls on a trl-engine run, through the trainer process as the extension
// drives it (a real forked out/trainer-process.js, GRPO_PYTHON passed as grpo.pythonPath
// passes it, TRL in a real Python): pause, one iteration, live settings, Save Checkpoint Now
// while paused, resume and stop, each at an iteration boundary; a resumed run keeps the live settings.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainerProcess } from '../src/trainer-process/client';
import { Recorder } from './helpers/trainer-recorder';
import { trlPython } from './helpers/trl-python';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'out', 'trainer-process.js');
const DEMO = join(ROOT, 'examples', 'demo');
const { python, reason } = trlPython();
const work = mkdtempSync(join(tmpdir(), 'grpo-trl-process-'));

before(() => {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run npm run build first`);
  cpSync(join(DEMO, '..', 'rewards', 'lib'), join(work, 'lib'), { recursive: true });
  writeFileSync(join(work, 'exact.reward.ts'), readFileSync(join(DEMO, '..', 'rewards', 'exact-answer.reward.ts'), 'utf8'));
});

test('pause, one iteration, live settings, Save Checkpoint Now, resume and stop reach TRL at iteration boundaries', { skip: python ? false : reason, timeout: 180_000 }, async () => {
  const trainer = new TrainerProcess({ script: SCRIPT, cwd: work, pythonPath: python });
  const recorder = new Recorder(trainer);
  trainer.start({
    config: {
      engine: 'trl',
      model_path: join(DEMO, 'model'),
      dataset_path: join(DEMO, 'train.jsonl'),
      rewards: [{ file: 'exact.reward.ts' }],
      output_dir: join(work, 'runs'),
      num_iterations: 1000,
      rollout_batch_size: 8,
      group_size: 4,
      minibatch_size: 16,
      max_new_tokens: 5,
      learning_rate: 1e-4,
      kl_coef: 0,
      checkpoint_every: 0,
    },
    workspaceRoot: work,
  });
  const started = await recorder.next('run-started', () => true, 60_000);
  assert.match(started.backend, /^trl \(TRL \d/);
  await recorder.next('metrics', () => true, 60_000);

  const pausedEvent = recorder.next('paused');
  trainer.pause();
  const at = (await pausedEvent).iteration;

  // Paused at a boundary: the checkpoint is saved now, and the run stays paused.
  const saved = recorder.next('checkpoint-saved');
  trainer.saveCheckpoint();
  const checkpoint = await saved;
  assert.equal(checkpoint.iteration, at);
  assert.ok(existsSync(join(checkpoint.path, 'trainer_state.json')), `${checkpoint.path} is TRL's checkpoint`);

  const cursor = recorder.events.length;
  const stepped = recorder.next('paused', () => true, 30_000);
  trainer.setLive({ learningRate: 0.0123, temperature: 0.7 });
  trainer.step();
  assert.equal((await stepped).iteration, at + 1, 'one iteration, then paused again');
  const metrics = recorder.of('metrics', cursor);
  assert.deepEqual(metrics.map((m) => m.iteration), [at + 1]);
  assert.ok(Math.abs((metrics[0].metrics.learning_rate as number) - 0.0123) < 1e-9, `TRL stepped with the live learning rate: ${metrics[0].metrics.learning_rate}`);
  assert.equal(metrics[0].metrics.temperature, 0.7);

  const resumed = recorder.next('resumed');
  const later = recorder.next('metrics', (e) => e.iteration === at + 3, 30_000);
  trainer.resume();
  await resumed;
  await later;
  const end = await trainer.stop({ graceMs: 30_000 });
  assert.deepEqual(end, { type: 'exited', code: 0, signal: null, forced: false });
  const finished = recorder.of('finished')[0];
  assert.equal(finished.reason, 'stopped');
  assert.equal(recorder.of('checkpoint-saved').at(-1)?.iteration, finished.iteration, 'stop saved a checkpoint at the iteration it stopped after');
  assert.deepEqual([...recorder.of('command-rejected'), ...recorder.of('protocol-error')], []);

  // Resume Run: a new process continues from that checkpoint with the live settings in force.
  const again = new TrainerProcess({ script: SCRIPT, cwd: work, pythonPath: python });
  const record = new Recorder(again);
  again.start({ workspaceRoot: work, resumeRunDir: finished.runDir });
  const first = await record.next('metrics', () => true, 60_000);
  assert.equal(first.iteration, finished.iteration + 1);
  assert.ok(Math.abs((first.metrics.learning_rate as number) - 0.0123) < 1e-9, `resumed with the live learning rate: ${first.metrics.learning_rate}`);
  assert.equal(first.metrics.temperature, 0.7);
  await again.stop({ graceMs: 30_000 });
});
