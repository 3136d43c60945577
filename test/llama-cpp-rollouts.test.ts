// Rollouts through llama.cpp (src/llama-cpp/): the policy written as GGUF gives llama.cpp's
// log-probabilities equal to ours; sampling maps our settings (greedy agreement, the
// distribution of sampled tokens under top-k and temperature); seeds reproduce; EOS, stop
// strings and lengths end completions as tfjs generation does; what cannot map falls back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Llama } from 'node-llama-cpp';
import { useTestBackend } from './helpers/backend';
import { loadCausalLM } from '../src/model/load';
import { mergedTensors } from '../src/model/merge';
import { scoreSequences } from '../src/model/score';
import { generate, type GenerateOptions } from '../src/model/generate';
import { DEFAULT_SAMPLING } from '../src/model/sampling';
import { unsupportedModel, writePolicyGguf, type GgufWeights } from '../src/llama-cpp/gguf-policy';
import { loadLlamaCpp } from '../src/llama-cpp/native';
import { EXACT_ATTENTION, LlamaCppRollouts, samplingMismatch } from '../src/llama-cpp/rollouts';
import { RolloutEngine } from '../src/trainer/rollout-engine';
import { DEFAULT_TRAINING_CONFIG } from '../src/trainer/config';
import type { CausalLM } from '../src/model/causal-lm';
import { trainDemoRun } from './helpers/demo-run';
import { jsonLines } from './helpers/train-run';

const fixtures = join(__dirname, 'fixtures', 'models');
const demo = join(__dirname, '..', 'examples', 'demo', 'model');
useTestBackend();

let llama: Llama;
let dir: string;
before(async () => {
  const loaded = await loadLlamaCpp();
  assert.equal(typeof loaded, 'object', `llama.cpp must load here: ${String(loaded)}`);
  llama = loaded as Llama;
  dir = mkdtempSync(join(tmpdir(), 'llama-cpp-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function options(over: Partial<GenerateOptions>): GenerateOptions {
  return { ...DEFAULT_SAMPLING, maxNewTokens: 8, groupSize: 1, eosTokenIds: [], padTokenId: 0, seed: 7, ...over };
}

/** llama.cpp's log-probability of each token given the ones before it (position 0: null). */
async function llamaCppLogprobs(model: CausalLM, weights: GgufWeights, sequences: number[][]): Promise<(number | null)[][]> {
  const file = join(dir, `parity-${weights}.gguf`);
  await writePolicyGguf(file, model.config, await mergedTensors(model), weights);
  const m = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const ctx = await m.createContext({ contextSize: 256, sequences: 1, ...EXACT_ATTENTION } as Parameters<typeof m.createContext>[0]);
  const seq = ctx.getSequence();
  const out: (number | null)[][] = [];
  for (const ids of sequences) {
    await seq.clearHistory();
    const items = ids.map((t, i) => (i < ids.length - 1 ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1 } } }] : t));
    const got = await seq.controlledEvaluate(items as Parameters<typeof seq.controlledEvaluate>[0]);
    out.push(ids.map((_, i) => (i === 0 ? null : Math.log(got[i - 1]!.next!.probabilities!.get(ids[i] as never) ?? 0))));
  }
  await ctx.dispose();
  await m.dispose();
  return out;
}

for (const name of ['llama-tied', 'qwen2-gqa-bias', 'mistral-bf16', 'llama-sharded']) {
  test(`${name}: llama.cpp's log-probabilities on the GGUF we write equal ours (F32 within 2e-5, F16 within 5e-2)`, async () => {
    const golden = JSON.parse(readFileSync(join(fixtures, name, 'golden.json'), 'utf8')) as { ids: number[][] };
    const model = await loadCausalLM(join(fixtures, name));
    try {
      const ours = await scoreSequences(model, golden.ids);
      for (const [weights, atol] of [['f32', 2e-5], ['f16', 5e-2]] as const) {
        const theirs = await llamaCppLogprobs(model, weights, golden.ids);
        let worst = 0;
        ours.forEach((row, r) => row.forEach((v, i) => {
          if (v !== null && i > 0) worst = Math.max(worst, Math.abs(v - (theirs[r][i] as number)));
        }));
        assert.ok(worst <= atol, `${weights}: max |diff| ${worst} exceeds ${atol}`);
      }
    } finally {
      model.dispose();
    }
  });
}

test('a model llama.cpp would run differently, or small with short completions (tfjs samples as fast), stays on tfjs under auto; an explicit llama.cpp is refused with the reason', async () => {
  const model = await loadCausalLM(join(fixtures, 'llama3-rope'));
  try {
    const reason = unsupportedModel(model.config, 64);
    assert.match(reason ?? '', /rope_scaling \(llama3\)/);
    const config = { ...DEFAULT_TRAINING_CONFIG, model_path: 'x', dataset_path: 'x', rewards: [] };
    const auto = await RolloutEngine.open({ ...config, rollout_engine: 'auto' }, model.config, 'wasm');
    assert.match(auto.description, /^tfjs \(llama\.cpp not used: the model's rope_scaling/);
    await auto.close();
    await assert.rejects(RolloutEngine.open({ ...config, rollout_engine: 'llama.cpp' }, model.config, 'wasm'), /rollout_engine "llama\.cpp" in the config cannot be used: the model's rope_scaling/);
  } finally {
    model.dispose();
  }
  const demoModel = await loadCausalLM(demo);
  try {
    const config = { ...DEFAULT_TRAINING_CONFIG, model_path: 'x', dataset_path: 'x', rewards: [] };
    const short = await RolloutEngine.open({ ...config, max_new_tokens: 64 }, demoModel.config, 'wasm');
    assert.match(short.description, /^tfjs \(llama\.cpp not used: the model is small \(0\.33M parameters\) and its completions short \(max_new_tokens 64\)/);
    const long = await RolloutEngine.open({ ...config, max_new_tokens: 256 }, demoModel.config, 'wasm');
    assert.equal(long.description, 'llama.cpp (CPU, weights F32)', 'long completions go to llama.cpp at any size');
    await long.close();
    const forced = await RolloutEngine.open({ ...config, rollout_engine: 'llama.cpp' }, demoModel.config, 'wasm');
    assert.equal(forced.description, 'llama.cpp (CPU, weights F32)');
    await forced.close();
  } finally {
    demoModel.dispose();
  }
  assert.match(samplingMismatch({ temperature: 0.7, topP: 0.9, minP: 0, repetitionPenalty: 1 }) ?? '', /top_p or min_p/);
  assert.match(samplingMismatch({ temperature: 1, topP: 1, minP: 0, repetitionPenalty: 1.1 }) ?? '', /repetition_penalty/);
  assert.equal(samplingMismatch({ temperature: 1, topP: 0.9, minP: 0.05, repetitionPenalty: 1 }), undefined, 'at temperature 1 the order does not matter');
  assert.equal(samplingMismatch({ temperature: 0.7, topP: 1, minP: 0, repetitionPenalty: 1 }), undefined);
});

test('greedy completions through llama.cpp equal tfjs generation; seeds reproduce; EOS, stop strings and lengths end completions', async () => {
  const model = await loadCausalLM(demo);
  const rollouts = await LlamaCppRollouts.create(llama, 'f32');
  try {
    const before = tf.memory().numTensors;
    await rollouts.syncPolicy(model);
    await rollouts.syncPolicy(model);
    assert.equal(tf.memory().numTensors, before, 'handing the weights over leaks no tensors');

    const prompts = [[5, 6, 7, 8], [9, 10], [11, 12, 13, 14, 15, 16]];
    const greedy = options({ temperature: 0, maxNewTokens: 6, groupSize: 2 });
    assert.deepEqual(await rollouts.generate(prompts, greedy), await generate(model, prompts, greedy));

    const sampled = options({ temperature: 1, maxNewTokens: 12, groupSize: 4, seed: 11 });
    const a = await rollouts.generate(prompts, sampled);
    assert.deepEqual(await rollouts.generate(prompts, sampled), a, 'the same seed gives the same completions');
    const b = await rollouts.generate(prompts, { ...sampled, seed: 12 });
    assert.notDeepEqual(b, a, 'another seed gives others');
    assert.notDeepEqual(a[0][0].ids, a[0][1].ids, 'members of a group differ');
    for (const c of a.flat()) {
      assert.equal(c.ids.length, 12);
      assert.equal(c.finishReason, 'length');
    }

    // The most frequent sampled token as EOS: completions end on it, and only there.
    const counts = new Map<number, number>();
    for (const c of a.flat()) for (const t of c.ids) counts.set(t, (counts.get(t) ?? 0) + 1);
    const eos = [...counts.entries()].sort((x, y) => y[1] - x[1])[0][0];
    const ended = (await rollouts.generate(prompts, { ...sampled, eosTokenIds: [eos] })).flat();
    assert.ok(ended.some((c) => c.finishReason === 'eos'));
    for (const c of ended) {
      assert.equal(c.ids.indexOf(eos), c.finishReason === 'eos' ? c.ids.length - 1 : -1);
    }

    const decode = (ids: number[]) => ids.map((t) => String.fromCharCode(97 + (t % 26))).join('');
    const stopText = decode(a[0][0].ids.slice(3, 5));
    const stopped = await rollouts.generate([prompts[0]], { ...sampled, groupSize: 4, stopStrings: [stopText], decode });
    const first = stopped[0][0];
    assert.equal(first.finishReason, 'stop');
    assert.equal(first.stopTextLength, decode(first.ids).indexOf(stopText));
  } finally {
    await rollouts.close();
    model.dispose();
  }
});

test('sampled tokens follow our distribution under top-k and temperature', async () => {
  const model = await loadCausalLM(demo);
  const rollouts = await LlamaCppRollouts.create(llama, 'f32');
  try {
    await rollouts.syncPolicy(model);
    const prompt = [5, 6, 7, 8];
    const temperature = 1.5;
    const topK = 6;
    // Our log-probabilities of every first token, then tempered and cut to the top k.
    const vocab = model.config.vocabSize;
    const scored = await scoreSequences(model, Array.from({ length: vocab }, (_, t) => [...prompt, t]));
    const logits = Float32Array.from(scored, (row) => row[prompt.length] as number);
    const order = [...logits.keys()].sort((x, y) => logits[y] - logits[x]).slice(0, topK);
    const weights = order.map((i) => Math.exp((logits[i] - logits[order[0]]) / temperature));
    const total = weights.reduce((s, w) => s + w, 0);
    const want = new Map(order.map((id, i) => [id, weights[i] / total]));

    const n = 512;
    const drawn = await rollouts.generate(Array.from({ length: 8 }, () => prompt), options({ temperature, topK, maxNewTokens: 1, groupSize: n / 8, seed: 3 }));
    const counts = new Map<number, number>();
    for (const c of drawn.flat()) counts.set(c.ids[0], (counts.get(c.ids[0]) ?? 0) + 1);
    for (const id of counts.keys()) assert.ok(want.has(id), `token ${id} is outside our top ${topK}`);
    let tv = 0;
    for (const [id, p] of want) tv += Math.abs(p - (counts.get(id) ?? 0) / n) / 2;
    assert.ok(tv < 0.1, `total variation ${tv.toFixed(3)} between sampled and wanted`);
  } finally {
    await rollouts.close();
    model.dispose();
  }
});

for (const [what, extra] of [['full fine-tuning', {}], ['LoRA, merged for each hand-over', { lora: { r: 4, lora_alpha: 8, target_modules: 'all-linear' } }]] as const) {
  test(`grpo train with rollout_engine "llama.cpp" (${what}): the run log names it and each iteration trains on its completions`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'llama-cpp-train-'));
    try {
      const runDir = trainDemoRun(work, { rollout_engine: 'llama.cpp', num_iterations: 3, kl_coef: 0, ...extra });
      assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /rollouts: llama\.cpp \(CPU, weights F32\)/);
      const metrics = jsonLines(join(runDir, 'metrics.jsonl'));
      assert.deepEqual(metrics.map((m) => m.iteration), [1, 2, 3]);
      for (const m of metrics) assert.ok(Number.isFinite(m.loss), `iteration ${m.iteration} has a finite loss`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
