// LoRA runs end to end, in process: real model folder, real rewards, real checkpoints.
// Only the adapters learn; the reference is the base; a checkpoint is a PEFT adapter folder
// that every command reads; a resume is exact; the merged model scores as the adapted one.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { grpo } from './helpers/cli';
import { useTestBackend } from './helpers/backend';
import { jsonLines, smallRunConfig, trainToEnd } from './helpers/train-run';
import type { TrainingConfig } from '../src/trainer/config';
import { loadAdapted, loadCausalLM } from '../src/model/load';
import { scoreSequences } from '../src/model/score';
import { saveModel } from '../src/model/save';
import { readSafetensors } from '../src/model/safetensors';
import { readModelWeights } from '../src/model/weights-files';
import { preparePrompt } from '../src/trainer/dataset';
import { Tokenizer } from '../src/tokenizer/tokenizer';

useTestBackend();
const work = mkdtempSync(join(tmpdir(), 'grpo-lora-'));
const model = join(work, 'model');
const REWARD = `export function vowels(s: { completion: string }) {\n  return (s.completion.match(/[aeiou]/g) ?? []).length / Math.max(1, s.completion.length);\n}\n`;
const IDS = [[1, 5, 9, 14, 3, 7], [2, 8, 8, 4]];

before(() => {
  const r = grpo('init-model', '--arch', 'qwen2', '--out', model, '--merges', '32', '--seed', '7');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon', 'Hello there', 'A tree'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(work, 'vowels.reward.ts'), REWARD);
});

function config(over: Record<string, unknown> = {}): TrainingConfig {
  return smallRunConfig(work, model, {
    num_iterations: 4,
    rollout_batch_size: 2,
    group_size: 4,
    minibatch_size: 4,
    max_new_tokens: 6,
    learning_rate: 0.01,
    kl_coef: 0.05,
    checkpoint_every: 2,
    keep_checkpoints: 0,
    lora: { r: 4, lora_alpha: 8, target_modules: 'all-linear' },
    ...over,
  });
}

test('a LoRA run trains the adapters alone: the base weights are untouched, the reference is the base, tensors stay flat', async () => {
  const counts: number[] = [];
  const run = await trainToEnd(config(), work, undefined, (e) => e.type === 'metrics' && counts.push(tf.memory().numTensors));
  assert.ok(counts.every((n) => n === counts[0]), `tensor counts ${counts}`);
  const started = run.events.find((e) => e.type === 'run-started');
  assert.ok(started?.type === 'run-started' && started.adapter, 'run-started names the adapter');
  if (started?.type !== 'run-started' || !started.adapter) return;
  // qwen2 init-model: 2 layers x 7 linear layers.
  assert.equal(started.adapter.adapted_layers, 14);
  assert.ok(started.adapter.trainable_parameters > 0 && started.adapter.trainable_parameters < started.adapter.base_parameters / 4);
  assert.deepEqual(JSON.parse(readFileSync(join(run.runDir, 'adapter.json'), 'utf8')), started.adapter);

  const checkpoints = readdirSync(join(run.runDir, 'checkpoints')).sort();
  assert.deepEqual(checkpoints, ['iter-000002', 'iter-000004']);
  const last = join(run.runDir, 'checkpoints', 'iter-000004');
  assert.ok(existsSync(join(last, 'adapter_config.json')) && existsSync(join(last, 'adapter_model.safetensors')));
  assert.ok(!existsSync(join(last, 'model.safetensors')), 'a LoRA checkpoint holds no copy of the base weights');
  const saved = await readSafetensors(join(last, 'adapter_model.safetensors'));
  assert.equal(saved.size, 28, 'lora_A and lora_B for each of the 14 layers');
  const anyB = [...saved].find(([n]) => n.endsWith('.lora_B.weight'))!;
  assert.ok(anyB[1].data.some((x) => x !== 0), 'lora_B moved from its zero start');

  // The checkpoint reads as a model folder: base from base_model_name_or_path, adapter on it.
  const adapted = await loadCausalLM(last);
  const base = await loadCausalLM(model);
  try {
    const a = await scoreSequences(adapted, IDS);
    const b = await scoreSequences(base, IDS);
    assert.notDeepEqual(a, b, 'the adapter changes the model');
    // The rollout's reference log-probabilities are the base model's (adapters off).
    const rollout = jsonLines(join(run.runDir, 'rollouts', 'iter-000003.jsonl'))[0];
    const promptIds = preparePrompt({ prompt: rollout.prompt, index: 0, row: {} }, await Tokenizer.load(model), false).ids;
    const underBase = (await scoreSequences(base, [[...promptIds, ...rollout.completion_ids]]))[0].slice(promptIds.length);
    for (let i = 0; i < rollout.completion_ids.length; i++) assert.ok(Math.abs(rollout.ref_logprobs[i] - underBase[i]!) < 1e-4, `ref logprob ${i}`);
    // The base weights of the adapted model are the folder's, bit for bit.
    const original = await readModelWeights(model);
    for (const [name, t] of original) {
      const v = adapted.params.get(name)!;
      const hf = (await (name.endsWith('_proj.weight') || name === 'lm_head.weight' ? tf.transpose(v) : v).data()) as Float32Array;
      assert.deepEqual(Array.from(hf), Array.from(t.data), name);
    }
  } finally {
    adapted.dispose();
    base.dispose();
  }
});

test('a LoRA run resumed from its checkpoint continues exactly, dropout included', async () => {
  const settings = { lora: { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ['q_proj', 'v_proj', 'down_proj'] }, reference_mode: 'ema', ema_alpha: 0.5 };
  const full = await trainToEnd(config(settings), work);
  const cut = await trainToEnd(config({ ...settings, num_iterations: 2 }), work);
  const resumed = await trainToEnd(config(settings), work, cut.runDir);
  const a = await readSafetensors(join(full.runDir, 'checkpoints', 'iter-000004', 'adapter_model.safetensors'));
  const b = await readSafetensors(join(resumed.runDir, 'checkpoints', 'iter-000004', 'adapter_model.safetensors'));
  for (const [name, t] of a) assert.deepEqual(Array.from(b.get(name)!.data), Array.from(t.data), name);
  const ma = jsonLines(join(full.runDir, 'metrics.jsonl')).map((m) => m.loss);
  const mb = jsonLines(join(resumed.runDir, 'metrics.jsonl')).map((m) => m.loss);
  assert.deepEqual(mb, ma);
  // Dropout is on in the loss only: a run without it learns otherwise.
  const noDropout = await trainToEnd(config({ ...settings, lora: { ...settings.lora, lora_dropout: 0 } }), work);
  assert.notDeepEqual(jsonLines(join(noDropout.runDir, 'metrics.jsonl')).map((m) => m.loss), ma);
});

test('fresh adapters start equal to the base; the merged folder scores as the adapted model and loads as a plain model', async () => {
  const fresh = await loadAdapted(model, { spec: { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'o_proj'], modulesToSave: [], useRslora: false }, seed: 3 });
  const base = await loadCausalLM(model);
  try {
    assert.deepEqual(await scoreSequences(fresh, IDS), await scoreSequences(base, IDS), 'B starts at zero');
  } finally {
    fresh.dispose();
    base.dispose();
  }
  const run = await trainToEnd(config({ num_iterations: 2, lora: { r: 4, lora_alpha: 16, use_rslora: true, target_modules: ['k_proj', 'up_proj'] } }), work);
  const adapted = await loadCausalLM(join(run.runDir, 'checkpoints', 'iter-000002'));
  const mergedDir = join(work, 'merged');
  await saveModel(adapted, mergedDir, { dtype: 'F32', tokenizerDir: model });
  const merged = await loadCausalLM(mergedDir);
  try {
    assert.ok(!merged.lora && existsSync(join(mergedDir, 'config.json')));
    const a = (await scoreSequences(adapted, IDS)).flat();
    const m = (await scoreSequences(merged, IDS)).flat();
    for (let i = 0; i < a.length; i++) if (a[i] !== null) assert.ok(Math.abs(a[i]! - m[i]!) < 1e-4, `position ${i}: ${a[i]} vs ${m[i]}`);
  } finally {
    adapted.dispose();
    merged.dispose();
  }
});

test('LoRA settings that cannot work are refused naming the field and the fix', async () => {
  assert.throws(() => config({ lora: { r: 0 } }), /field "lora\.r" must be an integer >= 1/);
  assert.throws(() => config({ lora: { rank: 4 } }), /unknown field "lora\.rank"/);
  await assert.rejects(() => trainToEnd(config({ lora: { target_modules: ['qproj'] } }), work), /target_modules \["qproj"\] name no linear layer/);
  await assert.rejects(() => trainToEnd(config({ lora: { modules_to_save: ['head'] } }), work), /modules_to_save "head" names no module/);
});

test('a run starts from an adapter folder (lora.adapter_path); a setting that contradicts the adapter is refused', async () => {
  const first = await trainToEnd(config({ num_iterations: 2, kl_coef: 0 }), work);
  const adapter = join(first.runDir, 'checkpoints', 'iter-000002');
  const next = await trainToEnd(config({ num_iterations: 1, kl_coef: 0, lora: { adapter_path: adapter } }), work);
  // The first rollout of the new run was sampled and scored by the adapted model.
  const rollout = jsonLines(join(next.runDir, 'rollouts', 'iter-000001.jsonl'))[0];
  const promptIds = preparePrompt({ prompt: rollout.prompt, index: 0, row: {} }, await Tokenizer.load(model), false).ids;
  const adapted = await loadCausalLM(adapter);
  try {
    const expected = (await scoreSequences(adapted, [[...promptIds, ...rollout.completion_ids]]))[0].slice(promptIds.length);
    for (let i = 0; i < rollout.completion_ids.length; i++) assert.ok(Math.abs(rollout.logprobs[i] - expected[i]!) < 1e-4, `logprob ${i}`);
  } finally {
    adapted.dispose();
  }
  // With a KL term, the reference of a continued adapter is that adapter (the model the run
  // started from, as TRL's "ref" copy), not the base: the first rollout's log-probabilities
  // are its reference's.
  const held = await trainToEnd(config({ num_iterations: 1, lora: { adapter_path: adapter } }), work);
  const sampled = jsonLines(join(held.runDir, 'rollouts', 'iter-000001.jsonl'))[0];
  assert.equal(sampled.ref_logprobs.length, sampled.logprobs.length);
  sampled.logprobs.forEach((x: number, i: number) => assert.ok(Math.abs(x - sampled.ref_logprobs[i]) < 1e-5, `ref logprob ${i}: ${sampled.ref_logprobs[i]} against ${x}`));
  await assert.rejects(
    () => trainToEnd(config({ lora: { adapter_path: adapter, r: 16 } }), work),
    /lora\.r is 16 but the adapter in .* was made with 4; remove lora\.r to continue that adapter/,
  );
  await assert.rejects(() => trainToEnd(config({ lora: { adapter_path: work } }), work), /no adapter_config\.json there/);
});

test('grpo train takes --lora as JSON, and grpo merge writes the merged model of a LoRA checkpoint', () => {
  const out = join(work, 'cli-runs');
  const r = grpo('train', '--model_path', model, '--dataset_path', join(work, 'data.jsonl'), '--reward', join(work, 'vowels.reward.ts'),
    '--num_iterations', '1', '--rollout_batch_size', '2', '--group_size', '2', '--max_new_tokens', '3', '--output_dir', out, '--lora', '{"r": 2, "target_modules": ["q_proj"]}');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}LoRA r=2 \(alpha 8\) on q_proj: [\d.]+M trained of [\d.]+M$/m);
  const checkpoint = join(out, readdirSync(out)[0], 'checkpoints', 'iter-000001');
  const merged = join(work, 'cli-merged');
  const m = grpo('merge', '--adapter', checkpoint, '--out', merged);
  assert.equal(m.code, 0, m.stderr);
  assert.ok(existsSync(join(merged, 'config.json')) && existsSync(join(merged, 'model.safetensors')) && existsSync(join(merged, 'tokenizer.json')));
  const again = grpo('merge', '--adapter', checkpoint, '--out', merged);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^grpo merge: --out .* is not empty; choose a new folder, or pass --force to write into it\n$/);
  const bad = grpo('train', '--model_path', model, '--dataset_path', join(work, 'data.jsonl'), '--reward', join(work, 'vowels.reward.ts'), '--lora', '{"r": 0}');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^grpo train: --lora: field "lora\.r" must be an integer >= 1, got 0\n$/);
});
