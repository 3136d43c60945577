// `grpo bench --model DIR | --size S ...`: one whole GRPO iteration, timed phase by phase, on
// the trainer's own code paths (generate as the rollout calls it, scoreCompletions for the old
// log-probabilities, rolloutAdvantages, updatePolicy with the real loss and AdamW), so that its
// figures can be set beside TRL's and a plain PyTorch loop's on the same model file
// (bench/compare.sh). runRollout itself needs text prompts and a tokenizer; the bench feeds
// token ids, so it calls the same functions with the same options, EOS left out.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as os from 'node:os';
import type { BackendChoice } from '../../engine/backend';
import { UserError } from '../../errors';
import { CausalLM } from '../../model/causal-lm';
import { parseModelConfig, type ModelConfig } from '../../model/config';
import { generate, type GenerateOptions } from '../../model/generate';
import type { GgufWeights } from '../../llama-cpp/gguf-policy';
import { loadLlamaCpp } from '../../llama-cpp/native';
import { LlamaCppRollouts } from '../../llama-cpp/rollouts';
import { UpdateWorker } from '../../trainer/update-worker';
import { updateThreads } from '../../trainer/update-threads';
import { autoPrefersLlamaCpp } from '../../trainer/rollout-engine';
import { freshConfigJson, MODEL_SIZES, randomWeights } from '../../model/init';
import { configParameters, countParameters, expectedShapes, paramsFromTensors } from '../../model/params';
import { Rng } from '../../model/rng';
import { rolloutAdvantages } from '../../trainer/advantages';
import { DEFAULT_TRAINING_CONFIG, type TrainingConfig } from '../../trainer/config';
import { EntropyBonus } from '../../trainer/entropy-bonus';
import { planTraining, type MemoryPlan } from '../../trainer/memory-plan';
import { AdamW } from '../../trainer/optimizer';
import { oldLogprobsFromUpdate } from '../../trainer/old-logprobs';
import { updatePolicy } from '../../trainer/policy-update';
import { samplingSettings, type Rollout } from '../../trainer/rollout';
import { packSequences, scoreCompletions } from '../../trainer/sequence-batch';
import { numberFlag } from '../args';
import type { Values } from '../flags';
import { loadModelFolder, startBackend } from '../session';
import { matmulPeak, passFlops } from './bench-flops';

export const BENCH_ITERATION_HELP = `grpo bench --model DIR | --size tiny|25m|135m [--prompts P] [--group G] [--prompt-tokens N] [--new-tokens L] [--json] [--backend B] [--rollout-engine auto|tfjs|llama.cpp] [--rollout-weights f32|f16] [--update-threads 0|1|2] [--gradient-checkpointing auto|true|false]

One whole GRPO iteration, phase by phase, after one warm-up iteration of the same shape:
rollout (P prompts of N random token ids x G samples of exactly L tokens: end-of-sequence
tokens do not stop a row), old log-probabilities, a built-in reward, and the update (one AdamW
step over all P x G completions, loss_type dapo, kl_coef 0, as TRL's defaults). --json prints
one object: backend, rollout_s, logprobs_s, reward_s, update_s, iteration_s, tokens_generated,
decode_tokens_per_s, prefill_tokens_per_s, update_tokens_per_s, peak_rss_mb, gflops_achieved,
gflops_peak (this backend's 1024^3 matmul, measured in the same run). Defaults: P 4, G 8, N 32, L 64.`;

/** The iteration's figures; the first thirteen fields are the issue's, the rest say what ran. */
export interface IterationBench {
  backend: string;
  rollout_engine: string; // tfjs, llama.cpp-f32, llama.cpp-f16
  update_threads: number;
  rollout_s: number;
  weight_sync_s: number; // of rollout_s: the policy written as GGUF and loaded by llama.cpp
  logprobs_s: number;
  reward_s: number;
  update_s: number;
  iteration_s: number;
  tokens_generated: number;
  decode_tokens_per_s: number;
  prefill_tokens_per_s: number;
  update_tokens_per_s: number;
  peak_rss_mb: number;
  gflops_achieved: number;
  gflops_peak: number;
  model: string;
  params_m: number;
  prompts: number;
  group: number;
  prompt_tokens: number;
  new_tokens: number;
  optimizer_steps: number;
  warmup_iterations: number;
  plan: Pick<MemoryPlan, 'scoreRows' | 'microRows' | 'vocabChunk' | 'hostMoments' | 'recompute'>;
}

interface Workload {
  prompts: number;
  group: number;
  promptTokens: number;
  newTokens: number;
  gradientCheckpointing: boolean | 'auto';
}

export async function benchIteration(v: Values): Promise<void> {
  for (const flag of ['sizes', 'prompt-len']) {
    if (v[flag] !== undefined) throw new UserError(`--${flag} belongs to the per-size bench; with --model or --size give --prompt-tokens N (and --size S for one size)`);
  }
  if (v.model !== undefined && v.size !== undefined) throw new UserError('give --model DIR or --size S, not both');
  const size = v.size as string | undefined;
  if (size !== undefined && !MODEL_SIZES[size]) throw new UserError(`--size must be one of ${Object.keys(MODEL_SIZES).join(', ')}, got "${size}"`);
  const w: Workload = {
    prompts: numberFlag(v, 'prompts', 4, { min: 1, integer: true }),
    group: numberFlag(v, 'group', 8, { min: 2, integer: true }), // an advantage needs a group of 2
    promptTokens: numberFlag(v, 'prompt-tokens', 32, { min: 1, integer: true }),
    newTokens: numberFlag(v, 'new-tokens', 64, { min: 2, integer: true }), // one decoding step at least
    gradientCheckpointing: checkpointingFlag(v['gradient-checkpointing'] as string | undefined),
  };
  const engineFlag = (v['rollout-engine'] as string | undefined) ?? 'auto';
  if (!['auto', 'tfjs', 'llama.cpp'].includes(engineFlag)) throw new UserError(`--rollout-engine must be auto, tfjs or llama.cpp, got "${engineFlag}"`);
  const updateThreadsFlag = numberFlag(v, 'update-threads', 0, { min: 0, integer: true });
  if (updateThreadsFlag > 2) throw new UserError(`--update-threads must be 0 (auto), 1 or 2, got ${updateThreadsFlag}`);
  const weights = (v['rollout-weights'] as string | undefined) ?? 'f32';
  if (weights !== 'f32' && weights !== 'f16') throw new UserError(`--rollout-weights must be f32 or f16, got "${weights}"`);
  const backend = await startBackend(v);
  const model = size !== undefined ? sizedModel(size) : (await loadModelFolder(v.model as string, false)).model;
  // auto, as the trainer decides (rollout-engine.ts).
  const engine = engineFlag === 'auto' ? (autoPrefersLlamaCpp(configParameters(model.config), w.newTokens) ? 'llama.cpp' : 'tfjs') : engineFlag;
  const rollouts = engine === 'llama.cpp' ? await openLlamaCpp(weights) : undefined;
  const threads = updateThreads({ ...DEFAULT_TRAINING_CONFIG, update_threads: updateThreadsFlag } as TrainingConfig, backend.name, false);
  const workerDir = threads.threads === 2 ? mkdtempSync(join(os.tmpdir(), 'grpo-bench-')) : undefined;
  const worker = workerDir ? await UpdateWorker.start(model, workerDir) : undefined;
  try {
    const result = await benchModel(model, size ?? (v.model as string), backend, w, rollouts, worker);
    if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write(describe(result));
  } finally {
    model.dispose();
    await rollouts?.close();
    await worker?.close();
    if (workerDir) rmSync(workerDir, { recursive: true, force: true });
  }
}

async function openLlamaCpp(weights: GgufWeights): Promise<LlamaCppRollouts> {
  const llama = await loadLlamaCpp();
  if (typeof llama === 'string') throw new UserError(`--rollout-engine llama.cpp: ${llama}`);
  return LlamaCppRollouts.create(llama, weights);
}

/** --gradient-checkpointing as the config field takes it (auto when absent). */
function checkpointingFlag(value: string | undefined): boolean | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UserError(`--gradient-checkpointing must be auto, true or false, got "${value}"`);
}

/** Random weights of a named size, made in memory, as the per-size bench makes them. */
function sizedModel(size: string): CausalLM {
  const config = parseModelConfig(freshConfigJson('llama', MODEL_SIZES[size], { vocabSize: 512, bosTokenId: 0, eosTokenId: 1 }), `bench:${size}`);
  return new CausalLM(config, paramsFromTensors(config, randomWeights(config, 1), `bench:${size}`));
}

async function benchModel(model: CausalLM, name: string, backend: BackendChoice, w: Workload, rollouts: LlamaCppRollouts | undefined, worker: UpdateWorker | undefined): Promise<IterationBench> {
  const config: TrainingConfig = {
    ...DEFAULT_TRAINING_CONFIG,
    model_path: name,
    dataset_path: '',
    rewards: [],
    eval_dataset_path: undefined,
    rollout_batch_size: w.prompts,
    group_size: w.group,
    max_prompt_tokens: w.promptTokens,
    max_new_tokens: w.newTokens,
    minibatch_size: w.prompts * w.group, // one optimizer step per iteration, as TRL's steps_per_generation 1
    kl_coef: 0, // TRL's default beta: no reference model
    gradient_checkpointing: w.gradientCheckpointing,
  };
  const plan = planTraining(config, model.config, expectedShapes(model.config).values(), w.promptTokens, backend.name);
  const optimizer = new AdamW(model.trainable, {
    beta1: config.adam_beta1,
    beta2: config.adam_beta2,
    eps: config.adam_eps,
    weightDecay: config.weight_decay,
    maxGradNorm: config.max_grad_norm,
  }, { hostMoments: plan.hostMoments });
  const rng = new Rng(3);
  // Ids from 2 up: the per-size models keep 0 and 1 for BOS and EOS.
  const promptIds = Array.from({ length: w.prompts }, () => Array.from({ length: w.promptTokens }, () => 2 + rng.int(model.config.vocabSize - 2)));
  try {
    await iteration(model, optimizer, config, plan, promptIds, 1, rollouts, worker); // warm-up: kernels compiled, heap grown, moments allocated
    const peak = await matmulPeak();
    const t = await iteration(model, optimizer, config, plan, promptIds, 2, rollouts, worker);
    const rows = w.prompts * w.group;
    const flops = iterationFlops(model.config, w);
    return {
      backend: backend.name,
      rollout_engine: rollouts ? `llama.cpp-${rollouts.weights}` : 'tfjs',
      update_threads: worker ? 2 : 1,
      rollout_s: t.rollout,
      weight_sync_s: t.weightSync,
      logprobs_s: t.logprobs,
      reward_s: t.reward,
      update_s: t.update,
      iteration_s: t.iteration,
      tokens_generated: t.tokensGenerated,
      decode_tokens_per_s: (rows * (w.newTokens - 1)) / t.decode,
      prefill_tokens_per_s: (w.prompts * w.promptTokens) / t.prefill,
      update_tokens_per_s: (rows * (w.promptTokens + w.newTokens)) / t.update,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024, // KiB; the process's peak, warm-up included
      gflops_achieved: flops / t.iteration / 1e9,
      gflops_peak: peak,
      model: name,
      params_m: countParameters(model.params) / 1e6,
      prompts: w.prompts,
      group: w.group,
      prompt_tokens: w.promptTokens,
      new_tokens: w.newTokens,
      optimizer_steps: t.steps,
      warmup_iterations: 1,
      plan: { scoreRows: plan.scoreRows, microRows: plan.microRows, vocabChunk: plan.vocabChunk, hostMoments: plan.hostMoments, recompute: plan.recompute },
    };
  } finally {
    optimizer.dispose();
  }
}

interface IterationTimes {
  rollout: number;
  weightSync: number; // handing the weights to llama.cpp, inside rollout
  prefill: number; // until the first sampled token
  decode: number; // the later tokens
  logprobs: number;
  reward: number;
  update: number;
  iteration: number;
  tokensGenerated: number;
  steps: number;
}

/** One iteration as Trainer.runIteration runs it, less the run folder's writes and the events. */
async function iteration(
  model: CausalLM, optimizer: AdamW, config: TrainingConfig, plan: MemoryPlan, promptIds: number[][], index: number, rollouts: LlamaCppRollouts | undefined,
  worker: UpdateWorker | undefined,
): Promise<IterationTimes> {
  const g = config.group_size;
  const seconds = (from: number, to = performance.now()) => (to - from) / 1000;
  const started = performance.now();
  const sync = rollouts ? await rollouts.syncPolicy(model) : { writeSeconds: 0, loadSeconds: 0 };
  const sampling = performance.now();
  let firstToken = sampling;
  const sample = rollouts ? (p: number[][], o: GenerateOptions) => rollouts.generate(p, o) : (p: number[][], o: GenerateOptions) => generate(model, p, o);
  const groups = await sample(promptIds, {
    ...samplingSettings(config, config.temperature),
    eosTokenIds: [], // fixed length: every row samples max_new_tokens, as TRL and PyTorch are told to
    padTokenId: 0,
    seed: config.seed * 1_000_003 + index,
    onStep: (p) => p.step === 1 && (firstToken = performance.now()),
  });
  const generated = performance.now();
  const completions = groups.flat(); // group-major, as the rollout's samples
  for (const c of completions) {
    if (c.ids.length !== config.max_new_tokens) throw new Error(`bench: a completion has ${c.ids.length} tokens, not ${config.max_new_tokens}`);
  }

  const scoreStart = performance.now();
  const batch = packSequences(completions.map((_, i) => promptIds[Math.floor(i / g)]), completions.map((c) => c.ids), 0);
  // As the trainer: with one optimizer step the update reads them itself (old-logprobs.ts).
  const oldFromUpdate = oldLogprobsFromUpdate(config, model);
  const oldLogprobs = oldFromUpdate
    ? new Float32Array(batch.rows * batch.completionLength).fill(NaN)
    : await scoreCompletions(model, batch, config.temperature, plan.scoreRows, { vocabChunk: plan.vocabChunk });
  const scored = performance.now();

  const total = Float64Array.from(completions, (c) => evenTokenShare(c.ids));
  const advantages = rolloutAdvantages({ functions: [{ values: total, weight: 1 }], total }, config);
  const rewarded = performance.now();

  const rollout: Rollout = {
    samples: completions.map((c, i) => ({
      rowIndex: Math.floor(i / g),
      group: Math.floor(i / g),
      member: i % g,
      prompt: '',
      completion: '',
      completionIds: c.ids,
      finishReason: c.finishReason,
    })),
    batch,
    promptLengths: promptIds.map((p) => p.length),
    oldLogprobs,
    oldFromUpdate,
    refLogprobs: undefined,
    generateSeconds: seconds(started, generated),
    scoreSeconds: seconds(scoreStart, scored),
    peakBytes: { generate: 0, score: 0, reference: 0 },
  };
  const update = await updatePolicy(model, optimizer, config, {
    rollout,
    advantages: advantages.advantages,
    mask: batch.completionMask,
    learningRate: config.learning_rate,
    klCoef: 0,
    temperature: config.temperature,
    entropyBonus: new EntropyBonus(config),
    plan,
    seed: config.seed * 1_000_003 + index,
    consecutiveSkippedBefore: 0,
    parallel: worker,
  });
  return {
    rollout: seconds(started, generated),
    weightSync: sync.writeSeconds + sync.loadSeconds,
    prefill: seconds(sampling, firstToken),
    decode: seconds(firstToken, generated),
    logprobs: seconds(scoreStart, scored),
    reward: seconds(scored, rewarded),
    update: update.seconds,
    iteration: seconds(started),
    tokensGenerated: completions.reduce((n, c) => n + c.ids.length, 0),
    steps: update.steps + update.skipped,
  };
}

/**
 * The built-in reward: the share of even token ids in a completion. Cheap, the same in the
 * Python baselines, independent of length (every completion is full length anyway), and
 * different across a group, so advantages and gradients are not zero.
 */
function evenTokenShare(ids: readonly number[]): number {
  let even = 0;
  for (const id of ids) if (id % 2 === 0) even++;
  return even / ids.length;
}

/** Matmul FLOPs of the iteration: prefill, L-1 decoding steps, the scoring pass, the update's forward and backward (3x a forward). */
function iterationFlops(c: ModelConfig, w: Workload): number {
  const rows = w.prompts * w.group;
  const seq = w.promptTokens + w.newTokens;
  const prefill = passFlops(c, w.prompts * w.promptTokens, w.promptTokens, w.prompts); // the head on each prompt's last token
  let decode = 0;
  for (let step = 1; step < w.newTokens; step++) decode += passFlops(c, rows, w.promptTokens + step, rows);
  const score = passFlops(c, rows * seq, seq, rows * w.newTokens); // the head on completion positions only
  return prefill + decode + score + 3 * score;
}

function describe(r: IterationBench): string {
  const f = (x: number, digits = 2) => x.toFixed(digits);
  return (
    `GRPO Studio iteration bench: ${r.model} (${f(r.params_m)}M parameters), ${r.backend}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'})\n` +
    `${r.prompts} prompts of ${r.prompt_tokens} tokens x ${r.group} samples of ${r.new_tokens} tokens (EOS does not stop a row), ` +
    `${r.optimizer_steps} optimizer step; after ${r.warmup_iterations} warm-up iteration\n\n` +
    `rollout    ${f(r.rollout_s).padStart(8)} s   prefill ${f(r.prefill_tokens_per_s, 0)} tok/s, decode ${f(r.decode_tokens_per_s, 1)} tok/s\n` +
    `log-probs  ${f(r.logprobs_s).padStart(8)} s\n` +
    `reward     ${f(r.reward_s).padStart(8)} s\n` +
    `update     ${f(r.update_s).padStart(8)} s   ${f(r.update_tokens_per_s, 0)} tok/s through forward and backward\n` +
    `iteration  ${f(r.iteration_s).padStart(8)} s   ${f(r.gflops_achieved, 1)} GFLOP/s of a ${f(r.gflops_peak, 1)} GFLOP/s matmul peak; peak RSS ${f(r.peak_rss_mb, 0)} MB\n`
  );
}
