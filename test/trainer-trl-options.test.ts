// The TRL options and metrics end to end, in process: a real model folder, real reward files
// in worker threads, a real run folder.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { grpo } from './helpers/cli';
import { parseTrainingConfig, type TrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';
import type { TrainerEvent } from '../src/trainer/events';
import { readSafetensors } from '../src/model/safetensors';
import { jsonLines, trainToEnd } from './helpers/train-run';

const work = mkdtempSync(join(tmpdir(), 'grpo-trl-options-'));
const model = join(work, 'model');
const reward = join(work, 'lengths.reward.ts');

before(() => {
  const r = grpo('init-model', '--arch', 'llama', '--out', model, '--merges', '32', '--seed', '9');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon', 'Hello there', 'A tree'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(
    reward,
    `import type { RewardContext } from 'grpo-studio/reward';\n` +
      `export function short(s: { completion: string }, ctx: RewardContext) {\n` +
      `  ctx.metric('chars', s.completion.length);\n` +
      `  return -s.completion.length / 10 + (s.completion.includes('e') ? 1 : 0);\n}\n` +
      `export function vowels(s: { completion: string }) {\n  return (s.completion.match(/[aeiou]/g) ?? []).length;\n}\n`,
  );
});

function config(over: Record<string, unknown> = {}): TrainingConfig {
  return parseTrainingConfig(
    {
      model_path: model,
      dataset_path: join(work, 'data.jsonl'),
      rewards: [{ file: reward }],
      output_dir: join(work, 'runs'),
      num_iterations: 6,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 4,
      max_new_tokens: 8,
      learning_rate: 0.002,
      kl_coef: 0,
      checkpoint_every: 2,
      keep_checkpoints: 0,
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
      ...over,
    },
    'test config',
  );
}

const train = (c: TrainingConfig, resumeRunDir?: string, listen?: (e: TrainerEvent, t: Trainer) => void) => trainToEnd(c, work, resumeRunDir, listen);
const lines = jsonLines;

test('metrics.jsonl holds TRL\'s names: no kl without a KL term, the clip extremes, terminated lengths, num_tokens, step_time, ctx.metric values', async () => {
  const run = await train(config({ num_iterations: 3, checkpoint_every: 0 }));
  const m = lines(join(run.runDir, 'metrics.jsonl'));
  const rollouts = [1, 2, 3].map((i) => lines(join(run.runDir, 'rollouts', `iter-00000${i}.jsonl`)));
  let tokens = 0;
  m.forEach((line, i) => {
    assert.ok(!('kl' in line), 'kl is not logged when kl_coef is 0');
    for (const name of ['clip_ratio/low_min', 'clip_ratio/high_max', 'completions/mean_terminated_length', 'completions/min_terminated_length', 'completions/max_terminated_length', 'step_time', 'entropy']) {
      assert.equal(typeof line[name], 'number', `${name} in iteration ${i + 1}`);
    }
    // ctx.metric('chars', ...) of function "short": the mean over the iteration's calls.
    const lengths = rollouts[i].map((r) => r.completion.length);
    assert.ok(Math.abs(line['short/chars'] - lengths.reduce((a: number, b: number) => a + b, 0) / lengths.length) < 1e-9, 'short/chars');
    // reward_std is the std of every reward of the batch (TRL), not a mean of group stds.
    const rewards = rollouts[i].map((r) => r.reward as number);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / (rewards.length - 1));
    assert.ok(Math.abs(line.reward_std - std) < 1e-4, `reward_std ${line.reward_std} vs ${std}`);
    const terminated = rollouts[i].filter((r) => r.finish_reason !== 'length').map((r) => r.completion_ids.length);
    assert.equal(line['completions/max_terminated_length'], terminated.length ? Math.max(...terminated) : 0);
    tokens += rollouts[i].reduce((n: number, r: { prompt: string; completion_ids: number[] }) => n + r.completion_ids.length, 0);
    assert.ok(line.num_tokens > tokens, 'num_tokens counts prompt tokens too, cumulatively');
  });
  assert.ok(m[2].num_tokens > m[1].num_tokens && m[1].num_tokens > m[0].num_tokens);
});

test('raising kl_coef from 0 while training creates the reference (the starting model), and a resume keeps it', async () => {
  const run = await train(config({ num_iterations: 4, checkpoint_every: 1 }), undefined, (e, t) => {
    if (e.type === 'metrics' && e.iteration === 1) t.setLive({ klCoef: 0.1 });
  });
  const warning = run.events.find((e) => e.type === 'warning' && /kl_coef is now 0.1/.test(e.message));
  assert.ok(warning, 'the trainer says it created a reference');
  assert.match((warning as { message: string }).message, /iteration 2: .* static reference model is the starting model/);
  const m = lines(join(run.runDir, 'metrics.jsonl'));
  assert.ok(!('kl' in m[0]));
  assert.ok(m.slice(1).every((x) => typeof x.kl === 'number' && x.kl >= 0 && x.kl_coef === 0.1), 'kl is logged from iteration 2');
  assert.ok(lines(join(run.runDir, 'rollouts', 'iter-000002.jsonl')).every((r) => Array.isArray(r.ref_logprobs)));
  assert.ok(!existsSync(join(run.runDir, 'checkpoints', 'iter-000001', 'reference.safetensors')));
  const reference = await readSafetensors(join(run.runDir, 'checkpoints', 'iter-000002', 'reference.safetensors'));
  const initial = await readSafetensors(join(model, 'model.safetensors'));
  for (const [name, t] of initial) assert.deepEqual(reference.get(name)!.data, t.data, `${name}: the reference is the starting model`);

  // Resumed from iteration 2: the reference comes back from the checkpoint, with no new warning.
  const again = join(work, 'resumed-kl');
  cpSync(run.runDir, again, { recursive: true });
  for (const it of ['iter-000003', 'iter-000004']) rmSync(join(again, 'checkpoints', it), { recursive: true });
  const resumed = await train(config({ num_iterations: 4, checkpoint_every: 1 }), again);
  assert.ok(!resumed.events.some((e) => e.type === 'warning' && /kl_coef is now/.test(e.message)));
  const a = await readSafetensors(join(run.runDir, 'checkpoints', 'iter-000004', 'model.safetensors'));
  const b = await readSafetensors(join(again, 'checkpoints', 'iter-000004', 'model.safetensors'));
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs after resume`);
});

test('GSPO, delta, the entropy mask and an adaptive entropy bonus train and resume exactly, with a flat tensor count', async () => {
  const options = {
    importance_sampling_level: 'sequence',
    loss_type: 'grpo',
    delta: 2,
    top_entropy_quantile: 0.5,
    entropy_coef: 0.01,
    use_adaptive_entropy: true,
    entropy_target: 100, // always above: the coefficient grows every step
    multi_objective_aggregation: 'normalize_then_sum',
    ppo_epochs: 2,
    kl_coef: 0.05,
  };
  const counts: number[] = [];
  const full = await train(config({ ...options, num_iterations: 4 }), undefined, (e) => e.type === 'metrics' && counts.push(tf.memory().numTensors));
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor count drifted: ${counts}`);
  const m = lines(join(full.runDir, 'metrics.jsonl'));
  // 8 completions, minibatch 4, 2 epochs: 4 steps an iteration, +0.005 each, from 0.01.
  assert.ok(m[0].entropy_coef > 0.01 && m[3].entropy_coef > m[0].entropy_coef, `entropy_coef ${m.map((x) => x.entropy_coef)}`);
  assert.ok(m.every((x) => typeof x.policy_loss === 'number'));

  const killed = join(work, 'killed-options');
  cpSync(full.runDir, killed, { recursive: true });
  rmSync(join(killed, 'checkpoints', 'iter-000004'), { recursive: true });
  await train(config({ ...options, num_iterations: 4 }), killed);
  const wa = await readSafetensors(join(full.runDir, 'checkpoints', 'iter-000004', 'model.safetensors'));
  const wb = await readSafetensors(join(killed, 'checkpoints', 'iter-000004', 'model.safetensors'));
  for (const [name, t] of wa) assert.deepEqual(wb.get(name)!.data, t.data, `${name} differs after resume`);
  const ma = lines(join(full.runDir, 'metrics.jsonl'));
  const mb = lines(join(killed, 'metrics.jsonl'));
  assert.equal(mb[3].entropy_coef, ma[3].entropy_coef, 'the adaptive coefficient resumes where it was');
});
