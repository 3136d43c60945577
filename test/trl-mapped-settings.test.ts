// Settings TRL alone does not honour, honoured by the trl engine as a user runs them (`grpo
// train` and the trainer process, TRL in a real Python): a LoRA run's moving reference (an EMA
// of the adapters, checked number by number and across a resume), a run that continues an
// adapter (lora.adapter_path; its reference is that adapter), kl_coef raised live in a run that
// began without a KL term (the reference is the starting model), a reward function that a
// reload adds (it counts from the next generation batch), and stop strings.
// Log-probabilities are checked against this engine's own forward pass.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from './helpers/backend';
import { trlPython } from './helpers/trl-python';
import { Recorder } from './helpers/trainer-recorder';
import { EXIT } from '../src/cli/exit-codes';
import type { CausalLM } from '../src/model/causal-lm';
import { loadAdapted, loadCausalLM } from '../src/model/load';
import { readAdapterConfig } from '../src/model/peft-adapter';
import { readSafetensors } from '../src/model/safetensors';
import { scoreSequences } from '../src/model/score';
import { preparePrompt } from '../src/trainer/dataset';
import { TrainerProcess } from '../src/trainer-process/client';
import { Tokenizer } from '../src/tokenizer/tokenizer';

useTestBackend();
const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'out', 'cli.js');
const DEMO = join(ROOT, 'examples', 'demo');
const MODEL = join(DEMO, 'model');
const { python, reason } = trlPython('peft');
const skip = python ? false : reason;
const work = mkdtempSync(join(tmpdir(), 'grpo-trl-reference-'));

interface Rollout {
  prompt: string;
  completion: string;
  finish_reason: string;
  completion_ids: number[];
  logprobs: number[];
  ref_logprobs: number[] | null;
}
const jsonl = <T>(file: string): T[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
const LORA = { r: 4, lora_alpha: 8, target_modules: 'all-linear' };

function config(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    engine: 'trl',
    model_path: MODEL,
    dataset_path: join(DEMO, 'train.jsonl'),
    rewards: [{ file: 'exact.reward.ts' }],
    output_dir: join(work, 'runs', name),
    rollout_batch_size: 4,
    group_size: 8,
    minibatch_size: 16,
    max_new_tokens: 5,
    learning_rate: 3e-3,
    seed: 7,
    ...extra,
  };
}

function train(name: string, extra: Record<string, unknown>, args: string[] = []): string {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(config(name, extra)));
  const r = spawnSync(process.execPath, [CLI, 'train', '--config', file, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_PYTHON: python ?? '' } });
  assert.equal(r.status, EXIT.ok, r.stderr + r.stdout);
  return runOf(name);
}

function runOf(name: string): string {
  const dir = join(work, 'runs', name);
  const runs = readdirSync(dir);
  assert.equal(runs.length, 1, `one run in ${dir}`);
  return join(dir, runs[0]);
}

const rollouts = (run: string, iteration: number) => jsonl<Rollout>(join(run, 'rollouts', `iter-${String(iteration).padStart(6, '0')}.jsonl`));
const checkpoint = (run: string, iteration: number) => join(run, 'checkpoints', `checkpoint-${iteration * 2}`); // 2 optimizer steps per iteration

/** The completion tokens' log-probabilities under `model`, by this engine's forward pass. */
async function ours(model: CausalLM, samples: Rollout[]): Promise<number[][]> {
  const tokenizer = await Tokenizer.load(MODEL);
  const prompts = samples.map((s) => preparePrompt({ prompt: s.prompt, index: 0, row: {} }, tokenizer, false).ids);
  const scored = await scoreSequences(model, samples.map((s, i) => [...prompts[i], ...s.completion_ids]));
  return scored.map((row, i) => row.slice(prompts[i].length) as number[]);
}

async function adapted(folder: string): Promise<CausalLM> {
  return loadAdapted(MODEL, { spec: (await readAdapterConfig(folder)).spec, from: folder });
}

function assertClose(actual: number[][], expected: number[][], tolerance: number, what: string) {
  let worst = 0;
  actual.forEach((row, i) => row.forEach((x, t) => (worst = Math.max(worst, Math.abs(x - expected[i][t])))));
  assert.ok(worst < tolerance, `${what}: worst difference ${worst}`);
}

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  cpSync(join(DEMO, '..', 'rewards', 'lib'), join(work, 'lib'), { recursive: true });
  writeFileSync(join(work, 'exact.reward.ts'), readFileSync(join(DEMO, '..', 'rewards', 'exact-answer.reward.ts'), 'utf8'));
});

test('a LoRA trl run with an EMA reference: a "ref" adapter moved after each iteration, scored by TRL, kept across a resume', { skip, timeout: 300_000 }, async () => {
  const ema = { num_iterations: 3, kl_coef: 0.04, reference_mode: 'ema', ema_alpha: 0.5, checkpoint_every: 1, keep_checkpoints: 0, lora: LORA };
  const run = train('ema', ema);
  // The EMA itself: ref after iteration k = 0.5 ref after k-1 + 0.5 the policy after k.
  const tensors = async (dir: string) => readSafetensors(join(dir, 'adapter_model.safetensors'));
  for (const k of [2, 3]) {
    const [before, policy, ref] = await Promise.all([tensors(join(checkpoint(run, k - 1), 'ref')), tensors(checkpoint(run, k)), tensors(join(checkpoint(run, k), 'ref'))]);
    assert.deepEqual([...ref.keys()].sort(), [...policy.keys()].sort());
    let worst = 0;
    let moved = 0;
    for (const [name, r] of ref) {
      const [b, p] = [before.get(name)!.data, policy.get(name)!.data];
      r.data.forEach((x, i) => {
        worst = Math.max(worst, Math.abs(x - (0.5 * b[i] + 0.5 * p[i])));
        moved = Math.max(moved, Math.abs(x - b[i]));
      });
    }
    assert.ok(worst < 1e-6 && moved > 1e-4, `iteration ${k}: EMA off by ${worst}, moved by ${moved}`);
  }
  // TRL scored each rollout's reference with that adapter: iteration 3's are the forward
  // pass of the ref adapter saved after iteration 2, and differ from the policy's.
  const samples = rollouts(run, 3).slice(0, 16);
  const ref = await adapted(join(checkpoint(run, 2), 'ref'));
  try {
    assertClose(samples.map((s) => s.ref_logprobs!), await ours(ref, samples), 2e-4, 'ref_logprobs against the ref adapter');
  } finally {
    ref.dispose();
  }
  assert.ok(samples.some((s) => s.logprobs.some((x, t) => Math.abs(x - s.ref_logprobs![t]) > 1e-3)), 'the reference lags the policy');

  // Stopped after 2 and resumed to 3: the same numbers as straight through (both adapters came back).
  assertResumesExactly('ema', ema);
});

test('a full fine-tuning trl run with an EMA reference keeps it across a resume (TRL alone would start it again from the model folder)', { skip, timeout: 300_000 }, () => {
  const ema = { num_iterations: 3, kl_coef: 0.04, reference_mode: 'ema', ema_alpha: 0.5, checkpoint_every: 1, keep_checkpoints: 0 };
  train('full-ema', ema);
  assert.ok(existsSync(join(checkpoint(runOf('full-ema'), 2), 'reference', 'model.safetensors')));
  assertResumesExactly('full-ema', ema);
});

/** A run of `settings` stopped after 2 iterations and resumed to 3 logs what run `straight` logged. */
function assertResumesExactly(straight: string, settings: Record<string, unknown>) {
  const resumed = train(`${straight}-resumed`, { ...settings, num_iterations: 2 });
  const again = spawnSync(process.execPath, [CLI, 'train', '--resume', resumed, '--num_iterations', '3'], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_PYTHON: python! } });
  assert.equal(again.status, EXIT.ok, again.stderr + again.stdout);
  const pick = (m: Record<string, unknown>) => [m.iteration, m.loss, m.kl, m.reward];
  assert.deepEqual(jsonl<Record<string, unknown>>(join(resumed, 'metrics.jsonl')).map(pick), jsonl<Record<string, unknown>>(join(runOf(straight), 'metrics.jsonl')).map(pick));
}

test('lora.adapter_path: a trl run continues a PEFT adapter, and its static reference is that adapter', { skip, timeout: 300_000 }, async () => {
  const first = train('adapter-first', { num_iterations: 2, kl_coef: 0, lora: LORA });
  const adapter = checkpoint(first, 2);
  const run = train('adapter-next', { num_iterations: 1, kl_coef: 0.04, lora: { adapter_path: adapter } });
  const samples = rollouts(run, 1).slice(0, 16);
  const model = await adapted(adapter);
  try {
    // Sampled by the continued adapter (its log-probabilities are that adapter's forward pass)
    // and held near it: the reference at the first rollout is the policy itself.
    assertClose(samples.map((s) => s.logprobs), await ours(model, samples), 2e-4, 'logprobs against the continued adapter');
    assertClose(samples.map((s) => s.ref_logprobs!), samples.map((s) => s.logprobs), 1e-5, 'ref_logprobs against logprobs');
  } finally {
    model.dispose();
  }
  // Settings that contradict the adapter are refused, as in the tfjs engine.
  const file = join(work, 'adapter-bad.json');
  writeFileSync(file, JSON.stringify(config('adapter-bad', { lora: { adapter_path: adapter, r: 16 } })));
  const bad = spawnSync(process.execPath, [CLI, 'train', '--config', file], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_PYTHON: python! } });
  assert.notEqual(bad.status, EXIT.ok);
  assert.match(bad.stderr, /lora\.r is 16 but the adapter in .* was made with 4/);
});

test('kl_coef raised live in a trl run that began at 0 scores the starting model as reference; a reward function added by a reload counts from the next batch', { skip, timeout: 300_000 }, async () => {
  writeFileSync(join(work, 'grown.reward.ts'), 'export function first(): number {\n  return 0;\n}\n');
  const trainer = new TrainerProcess({ script: join(ROOT, 'out', 'trainer-process.js'), cwd: work, pythonPath: python });
  const recorder = new Recorder(trainer);
  trainer.start({
    config: config('raised', { num_iterations: 6, kl_coef: 0, checkpoint_every: 0, rewards: [{ file: 'exact.reward.ts' }, { file: 'grown.reward.ts', weight: 2 }] }),
    workspaceRoot: work,
  });
  await recorder.next('metrics', (e) => e.iteration === 1, 60_000);
  trainer.pause();
  const at = (await recorder.next('paused', () => true, 60_000)).iteration;
  trainer.setLive({ klCoef: 0.05 });
  writeFileSync(join(work, 'grown.reward.ts'), 'export function first(): number {\n  return 0;\n}\nexport function added(s: { completion: string }): number {\n  return s.completion.length > 2 ? 1 : 0;\n}\n');
  trainer.resume();
  const finished = await recorder.next('finished', () => true, 120_000);
  assert.equal(finished.reason, 'completed');
  assert.deepEqual(recorder.of('warning').map((w) => w.message), []);
  const run = finished.runDir;
  const metrics = jsonl<Record<string, number>>(join(run, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.iteration), [1, 2, 3, 4, 5, 6]);
  // No KL before the raise, a KL term after it, against the model the run started from.
  for (const m of metrics) assert.equal(Number.isFinite(m.kl), m.iteration > at, `kl at iteration ${m.iteration}: ${m.kl}`);
  const after = rollouts(run, at + 1).slice(0, 16);
  assert.ok(rollouts(run, at).every((s) => s.ref_logprobs === null));
  const start = await loadCausalLM(MODEL);
  try {
    assertClose(after.map((s) => s.ref_logprobs!), await ours(start, after), 2e-4, 'ref_logprobs against the starting model');
  } finally {
    start.dispose();
  }
  // The added function: absent before the reload, in TRL's reward (weight 2) from the batch after it.
  const from = metrics.findIndex((m) => 'rewards/added/mean' in m);
  assert.ok(from >= at, `added from iteration ${from + 1}`);
  for (const m of metrics.slice(from)) {
    const sum = m['rewards/exactAnswer/mean'] + 2 * m['rewards/first/mean'] + 2 * m['rewards/added/mean'];
    assert.ok(Math.abs(m.reward - sum) < 1e-4, `iteration ${m.iteration}: reward ${m.reward} against ${sum}`);
  }
  assert.ok(metrics.slice(from).some((m) => m['rewards/added/mean'] > 0));
});

test('stop strings end a trl completion at the token that completes one; the rewards see the text before it', { skip, timeout: 300_000 }, async () => {
  const run = train('stop', { num_iterations: 2, kl_coef: 0, stop: ['1'] });
  const tokenizer = await Tokenizer.load(MODEL);
  const decode = (ids: number[]) => tokenizer.decode(ids);
  const metrics = jsonl<Record<string, number>>(join(run, 'metrics.jsonl'));
  for (const iteration of [1, 2]) {
    const samples = rollouts(run, iteration);
    const stopped = samples.filter((s) => s.finish_reason === 'stop' && decode(s.completion_ids).includes('1'));
    assert.ok(stopped.length > 0, `iteration ${iteration}: some completions hold a 1`);
    for (const s of samples) {
      const text = decode(s.completion_ids);
      if (!text.includes('1')) continue;
      // Cut right after the token that completed the stop string, with its log-probabilities.
      assert.equal(s.finish_reason, 'stop');
      assert.ok(!decode(s.completion_ids.slice(0, -1)).includes('1'), `cut at the stop: ${JSON.stringify(text)}`);
      assert.equal(s.logprobs.length, s.completion_ids.length);
      assert.equal(s.completion, text.slice(0, text.indexOf('1')));
    }
    // A completion a stop string ended is finished, not clipped, in TRL's metrics too.
    const clipped = samples.filter((s) => s.finish_reason === 'length').length / samples.length;
    assert.ok(Math.abs(metrics[iteration - 1]['completions/clipped_ratio'] - clipped) < 1e-6, `clipped_ratio ${metrics[iteration - 1]['completions/clipped_ratio']} against ${clipped}`);
  }
});
