// Both cores for the update (src/trainer/update-worker.ts): a step whose second half of
// micro-batches runs in the worker thread has the loss, gradients, statistics and read
// log-probabilities of the same step on one thread, within float32 rounding; the worker follows
// the weights across optimizer steps; a worker that dies fails the step with its reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { assertGradientsClose } from './helpers/gradients';
import { grpo } from './helpers/cli';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM } from '../src/model/causal-lm';
import { parseTrainingConfig } from '../src/trainer/config';
import { stepLossAndGradients, type StepSettings } from '../src/trainer/policy-step';
import { packSequences } from '../src/trainer/sequence-batch';
import { UpdateWorker } from '../src/trainer/update-worker';
import { trainDemoRun } from './helpers/demo-run';
import { jsonLines } from './helpers/train-run';

useTestBackend();

const work = mkdtempSync(join(tmpdir(), 'grpo-update-worker-'));
const C = 12;
const ROWS = 8;
let model: CausalLM;
let worker: UpdateWorker;

before(async () => {
  const r = grpo('init-model', '--arch', 'llama', '--size', 'tiny', '--out', join(work, 'model'), '--seed', '5');
  assert.equal(r.code, 0, r.stderr);
  model = await loadCausalLM(join(work, 'model'));
  worker = await UpdateWorker.start(model, work);
});
after(async () => {
  await worker.close();
  model.dispose();
  rmSync(work, { recursive: true, force: true });
});

const config = (fields: Record<string, unknown>) =>
  parseTrainingConfig({ model_path: 'm', dataset_path: 'd.jsonl', rewards: [{ file: 'r.reward.ts' }], rollout_batch_size: 2, group_size: 4, ...fields }, 'grpo.config.json');

const batch = packSequences(
  Array.from({ length: ROWS }, (_, i) => [1 + (i % 5), 17, 29]),
  Array.from({ length: ROWS }, (_, i) => Array.from({ length: C - (i % 3) }, (_, t) => (11 * i + 7 * t + 3) % 500)),
  0,
);
const advantages = Array.from({ length: ROWS }, (_, i) => (i % 3) - 1);

async function step(fields: Record<string, unknown>, microRows: number, parallel: UpdateWorker | undefined, recompute = false) {
  const c = config({ minibatch_size: 8, ...fields });
  const s: StepSettings = { temperature: 0.9, beta: 0, batchTokenCount: ROWS * C, stepsPerBatch: 1, entropyCoef: 0.01, microRows, vocabChunk: 512, recompute, parallel };
  const r = await stepLossAndGradients(model, c, { batch, advantages, mask: batch.completionMask }, s);
  const grads = new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array]));
  tf.dispose([...r.grads.values()]);
  return { loss: r.loss, grads, stats: r.stats, logprobs: r.logprobs! };
}

function assertClose(a: Awaited<ReturnType<typeof step>>, b: Awaited<ReturnType<typeof step>>, what: string) {
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-6 * Math.max(1, Math.abs(b.loss)), `${what}: loss ${a.loss} against ${b.loss}`);
  assertGradientsClose(a.grads, b.grads, what);
  for (const [k, v] of Object.entries(b.stats)) {
    const o = (a.stats as unknown as Record<string, number>)[k];
    if (Number.isNaN(v)) assert.ok(Number.isNaN(o), `${what}: ${k}`);
    else assert.ok(Math.abs(o - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${what}: stat ${k} ${o} against ${v}`);
  }
  for (let i = 0; i < b.logprobs.length; i++) {
    if (batch.completionMask[i] === 0) continue;
    assert.ok(Math.abs(a.logprobs[i] - b.logprobs[i]) < 1e-5, `${what}: log-prob ${i}`);
  }
}

for (const fields of [{ loss_type: 'dapo' }, { loss_type: 'grpo', importance_sampling_level: 'sequence' }, { loss_type: 'dr_grpo', top_entropy_quantile: 0.5 }]) {
  test(`half the micro-batches in the worker give the one-thread step (${JSON.stringify(fields)})`, async () => {
    const alone = await step(fields, ROWS, undefined);
    const before = tf.memory().numTensors;
    const shared = await step(fields, ROWS, worker);
    assertClose(shared, alone, 'whole step split in two');
    const sharedSmall = await step(fields, 3, worker);
    assertClose(sharedSmall, alone, 'micro-batches of 3, two to each thread');
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  });
}

test('layers recomputed in both threads (gradient_checkpointing) give the stored one-thread step', async () => {
  const fields = { loss_type: 'dapo' };
  const alone = await step(fields, ROWS, undefined);
  const before = tf.memory().numTensors;
  assertClose(await step(fields, ROWS, undefined, true), alone, 'recomputed, one thread');
  assertClose(await step(fields, 3, worker, true), alone, 'recomputed, micro-batches of 3 on two threads');
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});

test('grpo train with gradient_checkpointing true says so in its plan and trains as without it (within float32 rounding)', async () => {
  const runs: Record<string, string> = {};
  for (const on of [false, true]) runs[String(on)] = trainDemoRun(mkdtempSync(join(work, `recompute-${on}-`)), { gradient_checkpointing: on, num_iterations: 2, kl_coef: 0 });
  assert.match(readFileSync(join(runs.true, 'log.txt'), 'utf8'), /layers recomputed in the backward pass \(gradient_checkpointing\)/);
  assert.doesNotMatch(readFileSync(join(runs.false, 'log.txt'), 'utf8'), /layers recomputed/);
  const [off, on] = [jsonLines(join(runs.false, 'metrics.jsonl')), jsonLines(join(runs.true, 'metrics.jsonl'))];
  assert.equal(on.length, 2);
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(on[i].loss - off[i].loss) <= 1e-4 * Math.max(1, Math.abs(off[i].loss)), `iteration ${i + 1}: loss ${on[i].loss} recomputed, ${off[i].loss} stored`);
    assert.ok(Math.abs(on[i].grad_norm - off[i].grad_norm) <= 1e-3 * Math.max(1, off[i].grad_norm), `iteration ${i + 1}: grad_norm ${on[i].grad_norm} against ${off[i].grad_norm}`);
  }
});

test('the worker follows the weights: after the trainer changes them, its half is of the new weights', async () => {
  const fields = { loss_type: 'dapo' };
  const w = model.params.get('model.layers.0.mlp.up_proj.weight')!;
  const saved = w.clone();
  try {
    w.assign(tf.tidy(() => tf.mul(saved, 1.5)));
    assertClose(await step(fields, ROWS, worker), await step(fields, ROWS, undefined), 'after a change of weights');
  } finally {
    w.assign(saved);
    saved.dispose();
  }
});

test('a worker that is gone fails the step with the reason, and the trainer thread keeps no tensors', async () => {
  const doomed = await UpdateWorker.start(model, work);
  await doomed.close();
  const before = tf.memory().numTensors;
  await assert.rejects(step({ loss_type: 'dapo' }, ROWS, doomed), /update worker was closed/);
  assert.equal(tf.memory().numTensors, before);
});

test('grpo train with update_threads 2 logs its two threads and trains as with one (first iteration within float32 rounding)', async () => {
  const runs: Record<number, string> = {};
  for (const threads of [1, 2]) runs[threads] = trainDemoRun(mkdtempSync(join(work, `train-${threads}-`)), { update_threads: threads, num_iterations: 2, kl_coef: 0 });
  assert.match(readFileSync(join(runs[2], 'log.txt'), 'utf8'), /update: 2 threads \(update_threads 2\)/);
  assert.match(readFileSync(join(runs[1], 'log.txt'), 'utf8'), /update: 1 thread \(update_threads 1\)/);
  const [one, two] = [jsonLines(join(runs[1], 'metrics.jsonl')), jsonLines(join(runs[2], 'metrics.jsonl'))];
  assert.equal(two.length, 2);
  assert.ok(Math.abs(two[0].loss - one[0].loss) <= 1e-5 * Math.max(1, Math.abs(one[0].loss)), `loss ${two[0].loss} with two threads, ${one[0].loss} with one`);
  assert.ok(Math.abs(two[0].grad_norm - one[0].grad_norm) <= 1e-4 * Math.max(1, one[0].grad_norm), `grad_norm ${two[0].grad_norm} against ${one[0].grad_norm}`);
});
