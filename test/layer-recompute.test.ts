// Activation recomputation (gradient_checkpointing) changes memory, never the numbers: a
// training step's loss and every gradient equal the stored-activation step's, full fine-tuning
// and LoRA with dropout alike, the tape holds less at its peak, and no tensor is left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { assertGradientsClose } from './helpers/gradients';
import { grpo } from './helpers/cli';
import { PeakMemory } from '../src/engine/memory-probe';
import type { CausalLM } from '../src/model/causal-lm';
import { loadAdapted, loadCausalLM } from '../src/model/load';
import { lossAndGradients, disposeGradients } from '../src/trainer/gradients';
import { completionLogprobsAndEntropy, packSequences } from '../src/trainer/sequence-batch';

useTestBackend();

const work = mkdtempSync(join(tmpdir(), 'grpo-recompute-'));
let full: CausalLM;
let adapted: CausalLM;

before(async () => {
  const r = grpo('init-model', '--arch', 'llama', '--size', 'tiny', '--out', join(work, 'model'), '--seed', '5');
  assert.equal(r.code, 0, r.stderr);
  full = await loadCausalLM(join(work, 'model'));
  adapted = await loadAdapted(join(work, 'model'), {
    spec: { r: 4, alpha: 8, dropout: 0.2, targetModules: ['q_proj', 'v_proj', 'down_proj'], modulesToSave: [], useRslora: false },
    seed: 7,
  });
  // B starts at zero, which would leave A without a gradient to compare.
  for (const [name, v] of adapted.trainable) if (name.endsWith('lora_B')) (v as tf.Variable).assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 11));
});

after(() => {
  full.dispose();
  adapted.dispose();
});

// Rows of different prompt lengths (left padding) and 20 completion tokens each.
const batch = packSequences(
  [[1, 20, 30, 40, 50], [2, 21], [3, 22, 33], [4, 5, 6, 7, 8, 9]],
  [0, 1, 2, 3].map((i) => Array.from({ length: 20 }, (_, t) => (11 * i + 7 * t + 3) % 500)),
  0,
);
const weights = Float32Array.from({ length: 4 * 20 }, (_, i) => Math.sin(i));

/** A loss that reaches every path: the log-probabilities weighted per token, and the entropy. */
function step(model: CausalLM, recompute: boolean) {
  if (model.lora) model.lora.dropoutSeed = 1234;
  try {
    return lossAndGradients(model.trainable, () => {
      const { logp, entropy } = completionLogprobsAndEntropy(model, batch, 0.9, { vocabChunk: 128, entropyGradient: true, recompute });
      return tf.add(tf.sum(tf.mul(logp, tf.tensor2d(weights, [4, 20]))), tf.mul(tf.sum(entropy), 0.1)) as tf.Scalar;
    });
  } finally {
    if (model.lora) model.lora.dropoutSeed = undefined;
  }
}

const read = async (grads: Map<string, tf.Tensor>) => new Map(await Promise.all([...grads].map(async ([name, g]) => [name, (await g.data()) as Float32Array] as const)));

async function compare(model: CausalLM) {
  const stored = step(model, false);
  const recomputed = step(model, true);
  try {
    const a = (await stored.loss.data())[0];
    const b = (await recomputed.loss.data())[0];
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(a), `loss ${b} recomputed, ${a} stored`);
    assert.equal(recomputed.grads.size, stored.grads.size);
    const want = await read(stored.grads);
    for (const [name, g] of want) assert.ok(g.some((x) => x !== 0), `${name} has a gradient`);
    assertGradientsClose(await read(recomputed.grads), want, 'recomputed against stored');
  } finally {
    disposeGradients(stored);
    disposeGradients(recomputed);
  }
}

test('full fine-tuning: recomputed layers give the same loss and gradients for every parameter', async () => {
  await compare(full);
});

test('LoRA with dropout: recomputed layers draw the same dropout masks and give the same adapter gradients', async () => {
  await compare(adapted);
});

test('recomputation lowers the step\'s peak memory and leaves no tensor behind', async () => {
  const probe = new PeakMemory();
  const peakOf = (recompute: boolean) => {
    probe.reset();
    const base = probe.liveBytes;
    disposeGradients(step(full, recompute));
    return probe.peakBytes - base;
  };
  peakOf(true); // the first call makes the backend's one-off tensors
  const before = tf.memory().numTensors;
  const recomputed = peakOf(true);
  const stored = peakOf(false);
  for (let i = 0; i < 3; i++) peakOf(true);
  assert.equal(tf.memory().numTensors, before, 'tensors held after recomputed steps');
  assert.ok(recomputed < 0.8 * stored, `peak ${recomputed} bytes recomputed against ${stored} stored`);
});
