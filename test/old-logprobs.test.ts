// With one optimizer step per iteration the update reads the old log-probabilities from its
// own forward pass (src/trainer/old-logprobs.ts): the loss, its gradients and the recorded
// log-probabilities must equal those of a step given the scoring pass's values, whole or in
// micro-batches, and the decision must hold only where the ratio is exactly 1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { assertGradientsClose } from './helpers/gradients';
import { grpo } from './helpers/cli';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM } from '../src/model/causal-lm';
import { parseTrainingConfig } from '../src/trainer/config';
import { oldLogprobsFromUpdate } from '../src/trainer/old-logprobs';
import { stepLossAndGradients } from '../src/trainer/policy-step';
import { packSequences, scoreCompletions } from '../src/trainer/sequence-batch';

useTestBackend();

const work = mkdtempSync(join(tmpdir(), 'grpo-old-logprobs-'));
const C = 12;
const ROWS = 8;
let model: CausalLM;

before(async () => {
  const r = grpo('init-model', '--arch', 'llama', '--size', 'tiny', '--out', join(work, 'model'), '--seed', '5');
  assert.equal(r.code, 0, r.stderr);
  model = await loadCausalLM(join(work, 'model'));
});

const config = (fields: Record<string, unknown>) =>
  parseTrainingConfig({ model_path: 'm', dataset_path: 'd.jsonl', rewards: [{ file: 'r.reward.ts' }], rollout_batch_size: 2, group_size: 4, ...fields }, 'grpo.config.json');

test('the one-step decision: ppo_epochs 1 and minibatch_size equal to the rollout, never with several steps', () => {
  assert.equal(oldLogprobsFromUpdate(config({ minibatch_size: 8 }), model), true);
  assert.equal(oldLogprobsFromUpdate(config({ minibatch_size: 4 }), model), false, 'two steps: the second sees moved weights');
  assert.equal(oldLogprobsFromUpdate(config({ minibatch_size: 8, ppo_epochs: 2 }), model), false, 'a second epoch: the ratio is real');
});

test('a step without old log-probabilities has the loss, gradients and log-probabilities of one given the scoring pass', async () => {
  const batch = packSequences(
    Array.from({ length: ROWS }, (_, i) => [1 + (i % 5), 17, 29]),
    Array.from({ length: ROWS }, (_, i) => Array.from({ length: C - (i % 3) }, (_, t) => (11 * i + 7 * t + 3) % 500)),
    0,
  );
  const c = config({ minibatch_size: 8, loss_type: 'dapo' });
  const scored = await scoreCompletions(model, batch, 0.9, ROWS, { vocabChunk: 512 });
  const advantages = Array.from({ length: ROWS }, (_, i) => (i % 3) - 1);
  const settings = (microRows: number) => ({ temperature: 0.9, beta: 0, batchTokenCount: ROWS * C, stepsPerBatch: 1, entropyCoef: 0, microRows, vocabChunk: 512 });
  const run = async (old: Float32Array | undefined, microRows: number) => {
    const r = await stepLossAndGradients(model, c, { batch, oldLogprobs: old, advantages, mask: batch.completionMask }, settings(microRows));
    const grads = new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array]));
    tf.dispose([...r.grads.values()]);
    return { loss: r.loss, grads, logprobs: r.logprobs };
  };
  const given = await run(scored, ROWS);
  assert.equal(given.logprobs, undefined, 'a step given old log-probabilities returns none');
  const before = tf.memory().numTensors;
  for (const microRows of [ROWS, 3]) {
    const own = await run(undefined, microRows);
    assert.ok(Math.abs(own.loss - given.loss) <= 1e-6 * Math.max(1, Math.abs(given.loss)), `loss ${own.loss} against ${given.loss} (micro-batches of ${microRows})`);
    assertGradientsClose(own.grads, given.grads, `micro-batches of ${microRows}`);
    assert.ok(own.logprobs, 'the step returns the log-probabilities it read');
    for (let i = 0; i < scored.length; i++) {
      if (batch.completionMask[i] === 0) continue;
      assert.ok(Math.abs(own.logprobs![i] - scored[i]) < 1e-5, `log-prob ${i}: ${own.logprobs![i]} read in the step, ${scored[i]} scored`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});
