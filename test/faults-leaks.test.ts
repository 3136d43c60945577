// A short run of the demo model, in process, checkpointing and pruning as it goes: after a
// warm-up the TF.js tensor count stays the same, and no file descriptor, thread or reward
// worker process is left behind an iteration. scripts/long-run.ts does 500 iterations and
// bounds resident memory too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseTrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';
import { sampleResources, type ResourceSample } from './helpers/resource-sample';

const demo = resolve(__dirname, '..', 'examples', 'demo');
const WARMUP = 5;

test('40 iterations: tensor count flat, no file descriptor, thread or reward process left behind', async () => {
  const config = parseTrainingConfig(
    {
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      eval_dataset_path: join(demo, 'heldout.jsonl'),
      rewards: [{ file: join(demo, '..', 'rewards', 'exact-answer.reward.ts') }],
      output_dir: mkdtempSync(join(tmpdir(), 'grpo-faults-leaks-')),
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
      num_iterations: 40,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 5,
      kl_coef: 0.04,
      eval_every: 10,
      checkpoint_every: 5,
      keep_checkpoints: 2,
      seed: 1,
    },
    'test config',
  );
  const trainer = await Trainer.create(config, { workspaceRoot: demo });
  const samples: ResourceSample[] = [];
  // As an iteration starts, the previous one's writes, evaluation and checkpoint are done.
  trainer.on((e) => {
    if (e.type === 'iteration-started' && e.iteration > WARMUP) samples.push(sampleResources(e.iteration - 1));
    if (e.type === 'finished') samples.push(sampleResources(e.iteration));
  });
  try {
    await trainer.train();
  } finally {
    await trainer.close();
  }
  const series = (k: keyof ResourceSample) => samples.map((s) => s[k]);
  assert.equal(samples.length, 40 - WARMUP + 1);
  assert.equal(new Set(series('tensors')).size, 1, `tensor count drifted: ${series('tensors')}`);
  const first = samples[0];
  const last = samples[samples.length - 1];
  assert.ok(last.fds <= first.fds, `open file descriptors ${first.fds} -> ${last.fds}: ${series('fds')}`);
  assert.ok(last.threads <= first.threads, `threads ${first.threads} -> ${last.threads}`);
  assert.ok(last.children <= first.children, `child processes ${first.children} -> ${last.children}`);
});
