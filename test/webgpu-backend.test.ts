// The webgpu backend on a real Dawn adapter. This machine has no GPU, so the adapter is
// SwiftShader, the Vulkan implementation on the CPU that Debian's chromium ships: Dawn, tfjs's
// WebGPU kernels, the self-test and the trainer run for real, only slowly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { grpo } from './helpers/cli';
import { jsonLines, smallRunConfig, trainToEnd } from './helpers/train-run';
import { initBackend } from '../src/engine/backend';
import { gradientSelfTest } from '../src/engine/webgpu-self-test';
import { takeWebGpuError } from '../src/engine/webgpu-kernels';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const skip = existsSync(SWIFTSHADER) ? false : `${SWIFTSHADER} is missing (apt-get install chromium)`;
// Read by the Vulkan loader when Dawn starts, which is after this line.
process.env.VK_ICD_FILENAMES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= tmpdir(); // else Dawn's window-system probe prints an error

const work = mkdtempSync(join(tmpdir(), 'grpo-webgpu-'));
const model = join(work, 'model');

before(() => {
  const r = grpo('init-model', '--arch', 'llama', '--out', model, '--merges', '32', '--seed', '5');
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['The cat', 'Once upon', 'Hello there', 'A tree'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(work, 'vowels.reward.ts'), `export function vowels(s: { completion: string }) {\n  return (s.completion.match(/[aeiou]/g) ?? []).length / Math.max(1, s.completion.length);\n}\n`);
});

const settings = (backend: string) => ({
  backend,
  num_iterations: 3,
  rollout_batch_size: 2,
  group_size: 4,
  minibatch_size: 4,
  ppo_epochs: 2, // old log-probabilities from the first pass: the path that reads after the tape
  top_entropy_quantile: 0.5, // the entropy threshold, read before the tape on webgpu
  max_new_tokens: 4,
  learning_rate: 0.01,
  kl_coef: 0.05,
  checkpoint_every: 1,
  keep_checkpoints: 0,
  eval_every: 0,
  seed: 3,
});

test('without a GPU adapter, --backend webgpu trains on wasm and the run says why', () => {
  const env = { VK_ICD_FILENAMES: join(work, 'no-such-icd.json') };
  const run = grpoWith(env, 'train', '--config', writeConfig('none'), '--backend', 'webgpu', '--num_iterations', '1');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /backend wasm: webgpu was forced by --backend but Dawn found no GPU adapter: it needs a Vulkan driver on Linux/);
});

test('the self-test matches wasm on SwiftShader, and a wrong kernel fails it', { skip }, async () => {
  const choice = await initBackend('webgpu');
  assert.equal(choice.name, 'webgpu', choice.reason);
  assert.match(choice.reason, /SwiftShader.*software, on the CPU.*gradients match wasm within/);
  // A kernel that computes the wrong thing: rsqrt as sqrt (RMSNorm's), then the real one back.
  const rsqrt = tf.getKernel(tf.Rsqrt, 'webgpu')!;
  const sqrt = tf.getKernel(tf.Sqrt, 'webgpu')!;
  tf.unregisterKernel(tf.Rsqrt, 'webgpu');
  tf.registerKernel({ ...sqrt, kernelName: tf.Rsqrt });
  try {
    const wrong = await gradientSelfTest('webgpu', 'wasm', takeWebGpuError);
    assert.equal(wrong.ok, false);
    assert.ok(wrong.worst > 0.1, `worst ${wrong.worst}`);
  } finally {
    tf.unregisterKernel(tf.Rsqrt, 'webgpu');
    tf.registerKernel(rsqrt);
  }
  const right = await gradientSelfTest('webgpu', 'wasm', takeWebGpuError);
  assert.ok(right.ok && right.worst < 1e-3, `worst ${right.worst} at ${right.where}`);
});

test('AddN of more inputs than a shader may bind sums right on webgpu, with no device error', { skip }, async () => {
  await initBackend('webgpu');
  const values = Array.from({ length: 23 }, (_, i) => Float32Array.from({ length: 5 }, (_, j) => i * 0.5 + j));
  const sum = tf.tidy(() => tf.addN(values.map((v) => tf.tensor1d(v))));
  const got = Array.from(await sum.data());
  sum.dispose();
  const want = Array.from({ length: 5 }, (_, j) => values.reduce((s, v) => s + v[j], 0));
  assert.deepEqual(got, want);
  assert.equal(takeWebGpuError(), undefined);
});

test('a run on webgpu logs what the same run logs on wasm, with flat tensors and checkpoints written', { skip }, async () => {
  const counts: number[] = [];
  const gpu = await trainToEnd(smallRunConfig(work, model, settings('webgpu')), work, undefined, (e) => e.type === 'metrics' && counts.push(tf.memory().numTensors));
  assert.equal(tf.getBackend(), 'webgpu');
  assert.ok(counts.every((n) => n === counts[0]), `tensor counts ${counts}`);
  const cpu = await trainToEnd(smallRunConfig(work, model, settings('wasm')), work);
  const a = jsonLines(join(gpu.runDir, 'metrics.jsonl'));
  const b = jsonLines(join(cpu.runDir, 'metrics.jsonl'));
  assert.equal(a.length, 3);
  for (const [i, m] of a.entries()) {
    // Same samples (the rng draws against near-equal probabilities), so the same rewards.
    assert.equal(m.reward, b[i].reward, `iteration ${i + 1} reward`);
    // The first iteration starts from the same weights. After it, Adam divides each gradient
    // by its own running size, so float32 rounding in near-zero gradients grows into visible
    // differences of the weights, as between any two backends (wasm and cpu alike).
    const tolerance = i === 0 ? 1e-3 : 0.15;
    for (const key of ['loss', 'kl', 'entropy', 'grad_norm']) {
      assert.ok(Math.abs(m[key] - b[i][key]) <= tolerance * Math.max(0.01, Math.abs(b[i][key])), `iteration ${i + 1} ${key}: webgpu ${m[key]}, wasm ${b[i][key]}`);
    }
  }
  assert.deepEqual(readdirSync(join(gpu.runDir, 'checkpoints')).sort(), ['iter-000001', 'iter-000002', 'iter-000003']);
});

test('a GPU command that fails mid-run stops training before that iteration is saved', { skip }, async () => {
  const c = smallRunConfig(work, model, { ...settings('webgpu'), output_dir: join(work, 'runs-failing') });
  await assert.rejects(
    trainToEnd(c, work, undefined, (e) => {
      if (e.type !== 'iteration-started' || e.iteration !== 2) return;
      // A real failed command on the run's own device: a buffer past its maxBufferSize.
      const device = (tf.backend() as unknown as { device: { createBuffer(d: object): unknown } }).device;
      device.createBuffer({ size: 2 ** 40, usage: (globalThis as unknown as { GPUBufferUsage: { STORAGE: number } }).GPUBufferUsage.STORAGE });
    }),
    /the webgpu backend reported a failed GPU command during iteration 2 .*the last checkpoint is from before it/,
  );
  const runDir = join(c.output_dir, readdirSync(c.output_dir)[0]);
  assert.deepEqual(readdirSync(join(runDir, 'checkpoints')), ['iter-000001']);
  assert.deepEqual(jsonLines(join(runDir, 'metrics.jsonl')).map((m) => m.iteration), [1]);
});

function writeConfig(name: string): string {
  const file = join(work, `${name}.config.json`);
  const { backend: _, ...rest } = settings('auto'); // the command line names the backend
  const c = { ...rest, model_path: model, dataset_path: join(work, 'data.jsonl'), rewards: [{ file: join(work, 'vowels.reward.ts') }], output_dir: join(work, `runs-${name}`) };
  writeFileSync(file, JSON.stringify({ ...c, checkpoint_every: 0 }));
  return file;
}

function grpoWith(env: Record<string, string>, ...args: string[]) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return grpo(...args);
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
