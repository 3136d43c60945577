// A training run under a tight memory budget: the plan splits optimizer steps into
// micro-batches and keeps Adam's moments in host memory, and the run trains as the unsplit
// one does, with a flat tensor count and its peaks in metrics.jsonl.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { grpo } from './helpers/cli';
import { parseTrainingConfig, type TrainingConfig } from '../src/trainer/config';
import { jsonLines, trainToEnd } from './helpers/train-run';

const work = mkdtempSync(join(tmpdir(), 'grpo-trainer-memory-'));
const model = join(work, 'model');

before(() => {
  const r = grpo('init-model', '--arch', 'llama', '--size', 'tiny', '--out', model, '--seed', '4');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['1+1=', '2+3=', '4+4=', '5+2='].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(work, 'len.reward.ts'), 'export function len(s: { completion: string }) {\n  return s.completion.length % 3;\n}\n');
});

function config(over: Record<string, unknown>): TrainingConfig {
  return parseTrainingConfig(
    {
      model_path: model,
      dataset_path: join(work, 'data.jsonl'),
      rewards: [{ file: join(work, 'len.reward.ts') }],
      output_dir: join(work, 'runs'),
      num_iterations: 5,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 16,
      kl_coef: 0.05,
      learning_rate: 1e-3,
      checkpoint_every: 0,
      backend: process.env.GRPO_TEST_BACKEND ?? 'wasm',
      ...over,
    },
    'test config',
  );
}

async function train(c: TrainingConfig) {
  const counts: number[] = [];
  const run = await trainToEnd(c, work, undefined, (e) => e.type === 'metrics' && counts.push(tf.memory().numTensors));
  return { lines: jsonLines(join(run.runDir, 'metrics.jsonl')), counts, log: readFileSync(join(run.runDir, 'log.txt'), 'utf8') };
}

test('a tight memory_budget_mb splits steps into micro-batches and moves the moments to host memory, training as the unsplit run does', async () => {
  const roomy = await train(config({}));
  const tight = await train(config({ memory_budget_mb: 4 }));
  assert.match(roomy.log, /micro-batches of 8 rows/);
  assert.doesNotMatch(roomy.log, /moments in host memory/);
  const plan = /micro-batches of (\d+) rows/.exec(tight.log);
  assert.ok(plan && Number(plan[1]) < 8, `the tight plan splits the step: ${tight.log}`);
  assert.match(tight.log, /Adam's moments in host memory/);
  assert.equal(new Set(tight.counts.slice(1)).size, 1, `tensor count drifted: ${tight.counts}`);
  // Same samples and updates up to float rounding: the first iteration's numbers agree.
  for (const key of ['loss', 'grad_norm', 'kl', 'entropy', 'reward']) {
    const a = roomy.lines[0][key];
    const b = tight.lines[0][key];
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `${key}: ${a} unsplit, ${b} split`);
  }
  for (const line of tight.lines) {
    for (const phase of ['generate', 'score', 'reference', 'update']) assert.ok(line[`memory/${phase}_mb`] >= 0, `memory/${phase}_mb`);
    assert.ok(typeof line['memory/planned_mb'] === 'number');
  }
});
