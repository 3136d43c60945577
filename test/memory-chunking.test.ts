// Memory is planned: scoring, the update and the output head work in chunks, so peak tensor
// memory stays flat as the rollout grows, and a run that cannot fit is refused before it
// starts. Peaks are the engine's live buffers (PeakMemory), measured on a real model.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { grpo } from './helpers/cli';
import { PeakMemory } from '../src/engine/memory-probe';
import { UserError } from '../src/errors';
import { chunkedHeadLogprobs } from '../src/model/chunked-head';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM } from '../src/model/causal-lm';
import { parseModelConfig } from '../src/model/config';
import { parseTrainingConfig } from '../src/trainer/config';
import { describePlan, planMemory, planTraining, RECOMPUTE_ABOVE } from '../src/trainer/memory-plan';
import { loraSpec } from '../src/trainer/lora-config';
import { adapterShape } from '../src/model/lora-targets';
import { expectedShapes } from '../src/model/params';
import { stepLossAndGradients } from '../src/trainer/policy-step';
import { packSequences, scoreCompletions } from '../src/trainer/sequence-batch';

useTestBackend();

const work = mkdtempSync(join(tmpdir(), 'grpo-memory-'));
let model: CausalLM;
const probe = new PeakMemory();
const C = 24;

before(async () => {
  const r = grpo('init-model', '--arch', 'llama', '--size', 'tiny', '--out', join(work, 'model'), '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  model = await loadCausalLM(join(work, 'model'));
});

function batchOf(rows: number) {
  return packSequences(
    Array.from({ length: rows }, (_, i) => [1 + (i % 7), 20, 30, 40]),
    Array.from({ length: rows }, (_, i) => Array.from({ length: C }, (_, t) => (7 * i + 13 * t) % 500)),
    0,
  );
}

/** Peak bytes above what was live before `run`. */
async function peakOf(run: () => Promise<void>): Promise<number> {
  probe.reset();
  const base = probe.liveBytes;
  await run();
  return probe.peakBytes - base;
}

test('scoring in chunks of rows keeps peak memory flat as the rollout grows from 8 to 64 completions', async () => {
  const small = await peakOf(async () => void (await scoreCompletions(model, batchOf(8), 1, 8, { vocabChunk: 512 })));
  const large = await peakOf(async () => void (await scoreCompletions(model, batchOf(64), 1, 8, { vocabChunk: 512 })));
  const unchunked = await peakOf(async () => void (await scoreCompletions(model, batchOf(64), 1, 64, { vocabChunk: 512 })));
  assert.ok(large <= small * 1.1, `64 rows in chunks of 8 peaked at ${large} bytes, 8 rows at ${small}`);
  assert.ok(unchunked > 3 * large, `all 64 rows at once (${unchunked}) should hold far more than chunks of 8 (${large})`);
});

test('the output head in vocabulary slices holds a fraction of the whole logits, with the same values and gradients', async () => {
  const n = 2048; // positions
  const hidden = tf.randomNormal([n, model.config.hiddenSize], 0, 1, 'float32', 5) as tf.Tensor2D;
  const head = model.lmHead();
  const targets = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 31) % model.config.vocabSize), 'int32');
  const outputs: Float32Array[] = [];
  const peaks: number[] = [];
  for (const vocabChunk of [model.config.vocabSize, 64]) {
    peaks.push(
      await peakOf(async () => {
        const [v, dh] = tf.tidy(() => {
          const f = (h: tf.Tensor) => tf.sum(chunkedHeadLogprobs(h as tf.Tensor2D, head, targets, { temperature: 0.8, vocabChunk, entropyGradient: true }));
          return [chunkedHeadLogprobs(hidden, head, targets, { temperature: 0.8, vocabChunk, entropyGradient: false }), tf.grad(f)(hidden)];
        });
        outputs.push(Float32Array.from([...v.dataSync(), ...dh.dataSync()]));
        tf.dispose([v, dh]);
      }),
    );
  }
  const logitBytes = n * model.config.vocabSize * 4;
  assert.ok(peaks[0] > logitBytes, `the whole vocabulary holds at least the logits (${peaks[0]} > ${logitBytes})`);
  assert.ok(peaks[1] < peaks[0] / 3, `slices of 64 peaked at ${peaks[1]} bytes, the whole vocabulary at ${peaks[0]}`);
  let worst = 0;
  outputs[0].forEach((x, i) => (worst = Math.max(worst, Math.abs(x - outputs[1][i]))));
  assert.ok(worst < 1e-4, `slices change values or gradients by ${worst}`);
  tf.dispose([hidden, targets, ...(model.config.tieWordEmbeddings ? [head] : [])]);
});

test('an optimizer step in micro-batches keeps its peak flat as the step grows, with the same loss and gradients', async () => {
  const config = parseTrainingConfig(
    { model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], loss_type: 'grpo', kl_coef: 0, rollout_batch_size: 4, group_size: 8, minibatch_size: 16, max_new_tokens: C },
    'test',
  );
  const stepOf = (rows: number) => {
    const batch = batchOf(rows);
    return { batch, oldLogprobs: new Float32Array(rows * C).fill(-6), advantages: Array.from({ length: rows }, (_, i) => (i % 3) - 1), mask: batch.completionMask };
  };
  const settings = (microRows: number) => ({ temperature: 1, beta: 0, batchTokenCount: 32 * C, stepsPerBatch: 2, entropyCoef: 0, microRows, vocabChunk: 512 });
  const results: { loss: number; grads: Map<string, Float32Array> }[] = [];
  const run = async (rows: number, microRows: number, keep = false) =>
    peakOf(async () => {
      const r = await stepLossAndGradients(model, config, stepOf(rows), settings(microRows));
      if (keep) results.push({ loss: r.loss, grads: new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array])) });
      tf.dispose([...r.grads.values()]);
    });
  const four = await run(4, 2);
  const sixteen = await run(16, 2, true);
  await run(16, 16, true);
  assert.ok(sixteen <= four * 1.15, `16 rows in micro-batches of 2 peaked at ${sixteen} bytes, 4 rows at ${four}`);
  const [split, whole] = results;
  assert.ok(Math.abs(split.loss - whole.loss) < 1e-5, `loss ${split.loss} vs ${whole.loss}`);
  for (const [name, g] of whole.grads) {
    const s = split.grads.get(name)!;
    const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    let worst = 0;
    g.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - s[i]))));
    assert.ok(worst <= 1e-5 * Math.max(1, scale), `${name}: micro-batches change the gradient by ${worst}`);
  }
});

test('the plan shrinks micro-batches and score chunks to the budget, and refuses a run that cannot fit, naming the figures and the fix', () => {
  const shape = parseModelConfig(
    { model_type: 'llama', vocab_size: 16384, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 12, num_attention_heads: 6, num_key_value_heads: 2, tie_word_embeddings: true },
    'config.json',
  );
  const input = { parameters: 25e6, largestParameter: 16384 * 384, rows: 64, minibatch: 16, promptTokens: 32, completionTokens: 256, prompts: 8, reference: true, recompute: false };
  const roomy = planMemory(shape, { ...input, budgetBytes: 64 * 2 ** 30 });
  const tight = planMemory(shape, { ...input, budgetBytes: 2.5 * 2 ** 30 });
  assert.equal(roomy.microRows, 16);
  assert.ok(tight.microRows < 16 && 16 % tight.microRows === 0, `micro-batch ${tight.microRows}`);
  assert.ok(tight.scoreRows < roomy.scoreRows);
  assert.ok(tight.peakBytes <= 2.5 * 2 ** 30, 'the plan fits its budget');

  const config = parseTrainingConfig(
    { model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], max_new_tokens: 256, memory_budget_mb: 400, rollout_batch_size: 8, group_size: 8 },
    'grpo.config.json',
  );
  assert.throws(
    () => planTraining(config, shape, [[25e6]], 32, 'wasm'),
    (e: unknown) =>
      e instanceof UserError &&
      /needs about \d+ MiB in its \w+ phase \(the weights alone 95 MiB, with Adam's moments in host memory\), more than the 400 MiB it may use \(memory_budget_mb 400\)/.test(e.message) &&
      /Lower max_new_tokens \(256\)/.test(e.message) &&
      /raise memory_budget_mb/.test(e.message),
  );
});

test('a LoRA plan holds no gradients, moments or reference copy of the base: its few moments stay on the backend', () => {
  const shape = parseModelConfig(
    { model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, tie_word_embeddings: true },
    'config.json',
  );
  const config = parseTrainingConfig(
    { model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], max_new_tokens: 128, rollout_batch_size: 4, group_size: 8, kl_coef: 0.04, lora: { r: 16, target_modules: 'all-linear' } },
    'grpo.config.json',
  );
  const shapes = expectedShapes(shape);
  const full = planTraining(config, shape, shapes.values(), 24, 'wasm');
  const adapters = adapterShape(shape, loraSpec(config.lora!), shapes, 'test');
  // r x (in + out) for q, k, v, o, gate, up and down in each of 30 layers.
  assert.equal(adapters.sizes.reduce((a, b) => a + b, 0), 30 * 16 * (1152 + 768 + 768 + 1152 + 2112 + 2112 + 2112));
  const lora = planTraining(config, shape, shapes.values(), 24, 'wasm', adapters);
  // Full fine-tuning needs its moments on the host; LoRA's few moments stay on the backend.
  assert.ok(full.hostMoments && !lora.hostMoments);
  assert.ok(lora.phases.reference < full.phases.reference - 134e6 * 4, 'the reference shares the base');
});

test('moments stay on the backend only with room for the step that replaces them: a small 135M step keeps them on the host', () => {
  const shape = parseModelConfig(
    { model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, tie_word_embeddings: true },
    'config.json',
  );
  const shapes = expectedShapes(shape);
  const plan = (rows: number, tokens: number) =>
    planTraining(
      parseTrainingConfig({ model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], max_prompt_tokens: tokens, max_new_tokens: tokens, rollout_batch_size: 1, group_size: rows, minibatch_size: rows, kl_coef: 0 }, 'grpo.config.json'),
      shape,
      shapes.values(),
      tokens,
      'wasm',
    );
  // 1 x 2 rows of 8 tokens: its live peak with moments on the backend (2,917 MiB) is under the
  // 3,072 MiB budget, but that step aborted the 4 GiB heap (grpo bench --size 135m --prompts 1
  // --group 2 --prompt-tokens 8 --new-tokens 4, before this plan).
  assert.ok(plan(2, 8).hostMoments);
  // The 0.8M demo shape keeps its moments on the backend, as ever.
  const demo = parseModelConfig(
    { model_type: 'llama', vocab_size: 512, hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true },
    'config.json',
  );
  const config = parseTrainingConfig({ model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], rollout_batch_size: 32, group_size: 8 }, 'grpo.config.json');
  assert.ok(!planTraining(config, demo, expectedShapes(demo).values(), 8, 'wasm').hostMoments);
});

test('gradient_checkpointing: auto recomputes layers where an optimizer step\'s stored activations pass 512 MiB, and the plan then takes whole micro-batches', () => {
  const shape = parseModelConfig(
    { model_type: 'llama', vocab_size: 16384, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 12, num_attention_heads: 6, num_key_value_heads: 2, tie_word_embeddings: true },
    'config.json',
  );
  const shapes = expectedShapes(shape);
  // The bench's 25M iteration: 4 prompts x 8 of 32 + 64 tokens, one optimizer step.
  const plan = (checkpointing: boolean | 'auto', promptTokens = 32) =>
    planTraining(
      parseTrainingConfig({ model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], rollout_batch_size: 4, group_size: 8, minibatch_size: 32, max_new_tokens: 64, kl_coef: 0, gradient_checkpointing: checkpointing }, 'grpo.config.json'),
      shape,
      shapes.values(),
      promptTokens,
      'wasm',
    );
  const stored = plan(false);
  const auto = plan('auto');
  assert.ok(!stored.recompute && stored.microRows < 32 && stored.stepActivationBytes > RECOMPUTE_ABOVE, `stored: micro-batches of ${stored.microRows}`);
  assert.ok(auto.recompute && auto.microRows === 32, `auto: micro-batches of ${auto.microRows}`);
  assert.ok(auto.stepActivationBytes < stored.stepActivationBytes / 4, `${auto.stepActivationBytes} against ${stored.stepActivationBytes}`);
  assert.match(describePlan(auto), /layers recomputed in the backward pass \(gradient_checkpointing\)/);
  assert.ok(plan(true, 4).recompute, 'true recomputes whatever the size');
  // The demo's shape and batch: activations far below the threshold, so no extra pass.
  const demo = parseModelConfig(
    { model_type: 'llama', vocab_size: 512, hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true },
    'config.json',
  );
  const config = parseTrainingConfig({ model_path: 'm', dataset_path: 'd', rewards: [{ file: 'r.ts' }], rollout_batch_size: 32, group_size: 8 }, 'grpo.config.json');
  assert.equal(planTraining(config, demo, expectedShapes(demo).values(), 8, 'wasm').recompute, false);
});
