// The GRPO loop end to end, in process: real model folder, real reward files in worker
// threads, real run folder and checkpoints.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { grpo } from './helpers/cli';
import type { TrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';
import type { TrainerEvent } from '../src/trainer/events';
import { readSafetensors } from '../src/model/safetensors';
import { jsonLines, smallRunConfig, trainToEnd } from './helpers/train-run';

const work = mkdtempSync(join(tmpdir(), 'grpo-loop-'));
const model = join(work, 'model');
const REWARD_V1 = `export function vowels(s: { completion: string }) {\n  return (s.completion.match(/[aeiou]/g) ?? []).length / Math.max(1, s.completion.length);\n}\n`;
const REWARD_V2 = `export function vowels(s: { completion: string }) {\n  return 10 + s.completion.length;\n}\n`;

before(() => {
  const r = grpo('init-model', '--arch', 'qwen2', '--out', model, '--merges', '32', '--seed', '5');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon', 'Hello there', 'A tree', 'Sing'].map((p, i) => JSON.stringify({ prompt: p, id: i })).join('\n'));
  writeFileSync(join(work, 'vowels.reward.ts'), REWARD_V1);
});

function config(over: Record<string, unknown> = {}): TrainingConfig {
  return smallRunConfig(work, model, {
    num_iterations: 4,
    rollout_batch_size: 2,
    group_size: 4,
    minibatch_size: 4,
    max_new_tokens: 8,
    learning_rate: 0.002,
    ppo_epochs: 2,
    kl_coef: 0.05,
    checkpoint_every: 2,
    keep_checkpoints: 0,
    ...over,
  });
}

const train = (c: TrainingConfig, resumeRunDir?: string, listen?: (e: TrainerEvent, t: Trainer) => void) => trainToEnd(c, work, resumeRunDir, listen);
const lines = jsonLines;

test('resuming from a checkpoint continues exactly: same samples and same weights as an uninterrupted run', async () => {
  const full = await train(config());
  // A run killed after iteration 3 whose newest checkpoint is iteration 2.
  const killed = join(work, 'killed');
  cpSync(full.runDir, killed, { recursive: true });
  rmSync(join(killed, 'checkpoints', 'iter-000004'), { recursive: true });
  rmSync(join(killed, 'rollouts', 'iter-000004.jsonl'));
  const metrics = readFileSync(join(killed, 'metrics.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(killed, 'metrics.jsonl'), metrics.slice(0, 3).join('\n') + '\n{"iteration": 4, "rew'); // cut mid-line
  const resumed = await train(config(), killed);
  assert.equal((resumed.events.find((e) => e.type === 'run-started') as { resumedFrom?: number }).resumedFrom, 2);

  for (const it of ['iter-000003', 'iter-000004']) {
    const a = lines(join(full.runDir, 'rollouts', `${it}.jsonl`));
    const b = lines(join(killed, 'rollouts', `${it}.jsonl`));
    assert.deepEqual(b.map((r) => r.completion_ids), a.map((r) => r.completion_ids), `${it} samples`);
  }
  const wa = await readSafetensors(join(full.runDir, 'checkpoints', 'iter-000004', 'model.safetensors'));
  const wb = await readSafetensors(join(killed, 'checkpoints', 'iter-000004', 'model.safetensors'));
  for (const [name, t] of wa) assert.deepEqual(wb.get(name)!.data, t.data, `${name} differs after resume`);
  assert.deepEqual(lines(join(killed, 'metrics.jsonl')).map((m) => m.iteration), [1, 2, 3, 4]);
});

test('one iteration changes every trained weight and leaves a static reference alone; tensors do not leak', async () => {
  const counts: number[] = [];
  const run = await train(config({ num_iterations: 5, checkpoint_every: 1, ppo_epochs: 1 }), undefined, (e) => {
    if (e.type === 'metrics') counts.push(tf.memory().numTensors);
  });
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor count drifted across iterations: ${counts}`);
  const initial = await readSafetensors(join(model, 'model.safetensors'));
  const after = await readSafetensors(join(run.runDir, 'checkpoints', 'iter-000001', 'model.safetensors'));
  const reference = await readSafetensors(join(run.runDir, 'checkpoints', 'iter-000005', 'reference.safetensors'));
  for (const [name, t] of initial) {
    assert.notDeepEqual(after.get(name)!.data, t.data, `${name} did not change after one iteration`);
    assert.deepEqual(reference.get(name)!.data, t.data, `static reference ${name} changed`);
  }
});

test('a reward file edited mid-iteration takes effect at the next iteration, and every iteration records its version', async () => {
  writeFileSync(join(work, 'vowels.reward.ts'), REWARD_V1);
  const run = await train(config({ num_iterations: 3, checkpoint_every: 0 }), undefined, (e) => {
    // Written while iteration 2 is being scored: it must not change iteration 2.
    if (e.type === 'rollout-ready' && e.iteration === 2) writeFileSync(join(work, 'vowels.reward.ts'), REWARD_V2);
  });
  const m = lines(join(run.runDir, 'metrics.jsonl'));
  const version = (i: number) => Object.values(m[i].reward_versions as Record<string, string>)[0];
  assert.equal(version(0), version(1));
  assert.notEqual(version(1), version(2));
  assert.ok(m[1].reward < 1 && m[2].reward >= 10, `rewards ${m.map((x) => x.reward)}`);
  assert.ok(run.events.some((e) => e.type === 'reward-reloaded'));
  writeFileSync(join(work, 'vowels.reward.ts'), REWARD_V1);
});

test('an EMA reference moves by ema_alpha towards the policy; a periodic one copies it every reference_update_freq', async () => {
  const initial = await readSafetensors(join(model, 'model.safetensors'));
  const ema = await train(config({ num_iterations: 1, reference_mode: 'ema', ema_alpha: 0.25, checkpoint_every: 1 }));
  const policy1 = await readSafetensors(join(ema.runDir, 'checkpoints', 'iter-000001', 'model.safetensors'));
  const ref1 = await readSafetensors(join(ema.runDir, 'checkpoints', 'iter-000001', 'reference.safetensors'));
  for (const [name, t] of initial) {
    const p = policy1.get(name)!.data;
    const r = ref1.get(name)!.data;
    t.data.forEach((x, i) => assert.ok(Math.abs(r[i] - (0.75 * x + 0.25 * p[i])) < 1e-6, `${name}[${i}]`));
  }

  const periodic = await train(config({ num_iterations: 3, reference_mode: 'periodic', reference_update_freq: 2, checkpoint_every: 1 }));
  const at = async (it: string, file: string) => readSafetensors(join(periodic.runDir, 'checkpoints', it, file));
  const [r1, r2, p2, r3] = await Promise.all([
    at('iter-000001', 'reference.safetensors'),
    at('iter-000002', 'reference.safetensors'),
    at('iter-000002', 'model.safetensors'),
    at('iter-000003', 'reference.safetensors'),
  ]);
  for (const [name, t] of initial) {
    assert.deepEqual(r1.get(name)!.data, t.data, `${name}: copied too early`);
    assert.deepEqual(r2.get(name)!.data, p2.get(name)!.data, `${name}: not copied at iteration 2`);
    assert.deepEqual(r3.get(name)!.data, p2.get(name)!.data, `${name}: copied again before iteration 4`);
  }
});

test('with kl_coef 0 no reference is held, and a failing reward leaves its samples at advantage 0 while training goes on', async () => {
  const file = join(work, 'broken.reward.ts');
  writeFileSync(file, `export function broken(s: { completion: string }) {\n  if (s.completion.length >= 0) throw new Error('no score today');\n  return 1;\n}\n`);
  const run = await train(config({ num_iterations: 2, kl_coef: 0, checkpoint_every: 1, rewards: [{ file }] }));
  const ckpt = join(run.runDir, 'checkpoints', 'iter-000001');
  assert.throws(() => readFileSync(join(ckpt, 'reference.safetensors')), /ENOENT/);
  const rollouts = lines(join(run.runDir, 'rollouts', 'iter-000001.jsonl'));
  assert.ok(rollouts.every((r) => r.reward === null && r.advantage === 0 && r.ref_logprobs === null));
  const errors = JSON.parse(readFileSync(join(run.runDir, 'reward-errors', 'iter-000001.json'), 'utf8'));
  assert.match(JSON.stringify(errors), /no score today/);
  assert.match(JSON.stringify(errors), /broken\.reward\.ts:2:/, 'the stack points at the user file and line');
  assert.deepEqual(lines(join(run.runDir, 'metrics.jsonl')).map((m) => m.iteration), [1, 2]);
});

test('non-finite updates are skipped and counted, and training stops with a clear error after too many in a row', async () => {
  const c = config({ num_iterations: 6, learning_rate: 1e38, max_grad_norm: 0, max_consecutive_nonfinite: 2, checkpoint_every: 0, kl_coef: 0 });
  let error = '';
  const trainer = await Trainer.create(c, { workspaceRoot: work });
  trainer.on((e) => e.type === 'error' && (error = e.message));
  await assert.rejects(() => trainer.train(), /updates in a row had a NaN or infinite loss or gradient/);
  await trainer.close();
  assert.match(error, /Lower learning_rate/);
  const m = lines(join(trainer.run.path, 'metrics.jsonl'));
  assert.ok(m.some((x) => x.skipped_updates > 0), 'skips are reported in metrics');
});

test('commands take effect at iteration boundaries: pause, one step, resume, live learning rate and temperature, stop', async () => {
  const seen: string[] = [];
  const run = await train(config({ num_iterations: 6, checkpoint_every: 0 }), undefined, (e, t) => {
    if (e.type === 'metrics') seen.push(`metrics ${e.iteration}`);
    if (e.type === 'paused' || e.type === 'resumed') seen.push(`${e.type} ${e.iteration}`);
    if (e.type === 'metrics' && e.iteration === 1) t.pause();
    if (e.type === 'paused' && e.iteration === 1) setTimeout(() => t.step(), 20); // one more, then paused again
    if (e.type === 'paused' && e.iteration === 2) {
      t.setLive({ learningRate: 0.0005, temperature: 0.7 });
      setTimeout(() => t.resume(), 20);
    }
    if (e.type === 'metrics' && e.iteration === 4) t.stop();
  });
  assert.deepEqual(seen, ['metrics 1', 'paused 1', 'metrics 2', 'paused 2', 'resumed 2', 'metrics 3', 'metrics 4']);
  const m = lines(join(run.runDir, 'metrics.jsonl'));
  assert.equal(m[1].learning_rate, 0.002);
  assert.equal(m[2].learning_rate, 0.0005);
  assert.deepEqual([m[1].temperature, m[2].temperature], [1, 0.7]);
  const finished = run.events.find((e) => e.type === 'finished') as { reason: string; iteration: number };
  assert.deepEqual([finished.reason, finished.iteration], ['stopped', 4]);
  assert.ok(run.events.some((e) => e.type === 'checkpoint-saved' && e.iteration === 4), 'stopping saves a checkpoint');
});

test('the ratio is exactly 1 with one step per rollout and differs from 1 once a second epoch reuses the rollout', async () => {
  const one = await train(config({ num_iterations: 1, ppo_epochs: 1, minibatch_size: 8, checkpoint_every: 0 }));
  const two = await train(config({ num_iterations: 1, ppo_epochs: 2, minibatch_size: 8, checkpoint_every: 0 }));
  const ratio = (runDir: string) => lines(join(runDir, 'metrics.jsonl'))[0].ratio_mean as number;
  assert.equal(ratio(one.runDir), 1);
  assert.notEqual(ratio(two.runDir), 1);
  assert.ok(Math.abs(ratio(two.runDir) - 1) < 0.5, 'a small learning rate keeps the ratio near 1');
});
