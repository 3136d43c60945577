// The training settings of a GRPO run, declared once. The TypeScript type, the defaults,
// the validation of grpo.config.json and its JSON Schema are all derived from FIELDS.
//
// Papers cited in the field docs:
//   DeepSeekMath  Shao et al. 2024, arXiv:2402.03300: GRPO, group-relative advantages, k3 KL.
//   PPO           Schulman et al. 2017, arXiv:1707.06347: the clipped surrogate, epochs over a batch.
//   DAPO          Yu et al. 2025, arXiv:2503.14476: clip-higher, token-level loss, overlong masking.
//   Dr. GRPO      Liu et al. 2025, arXiv:2503.20783: no length or std normalisation.
//   AdamW         Loshchilov & Hutter 2019, arXiv:1711.05101.
//   GSPO          Zheng et al. 2025, arXiv:2507.18071: sequence-level importance ratios.
//   INTELLECT-2   Prime Intellect 2025, arXiv:2505.07291: two-sided clipping (delta).
//   CISPO         MiniMax-M1, arXiv:2506.13585; ScaleRL, arXiv:2510.13786: clipped IS weights.
//   GDPO          arXiv:2601.05242: normalise each reward, then sum.
//   80/20         Wang et al. 2025, arXiv:2506.01939: train on the high-entropy tokens.
//   Skywork-OR1   arXiv:2505.22312: adaptive entropy control.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors';
import { DEFAULT_REWARD_TIMEOUT_MS } from '../rewards/timeout';
import {
  choice, defaultsOf, FieldProblem, flag, flagOrAuto, integer, objectSchema, optionalPath, optionalReal, optionalRecord, optionalTexts, path, readObject, real, realFrom, records,
  texts, type JsonSchema, type ValuesOf,
} from './config-fields';
import { TRL_DIFFERENT, TRL_SAME } from './trl-names';
import { LORA_FIELDS } from './lora-config';

const REWARD_FIELDS = {
  file: path({ doc: 'A TypeScript (or JavaScript) file exporting reward functions, relative to this settings file.' }),
  weight: real({
    default: 1,
    doc: 'Multiplies every reward this entry produces before they are summed into the reward R of a completion. Negative weights turn a reward into a penalty.',
  }),
  functions: optionalTexts({ doc: 'Names of the exported functions to use. Absent: every reward function the file exports.' }),
};

export const TRAINING_CONFIG_FIELDS = {
  // What to train on.
  model_path: path({ doc: 'The Hugging Face model folder to train (config.json, *.safetensors, tokenizer.json). Relative paths are taken from this settings file.' }),
  dataset_path: path({
    doc: 'The training prompts: JSONL with a "prompt" column (text, or chat messages) plus any other columns, which reach the reward functions; or JSON of the form {"prompts": [...]}.',
  }),
  eval_dataset_path: optionalPath({ doc: 'Held-out prompts in the same format as dataset_path, scored with greedy decoding for evaluation. Absent: no evaluation.' }),
  rewards: records({
    minItems: 1,
    itemFields: REWARD_FIELDS,
    why: 'a completion needs a reward to be ranked against its group',
    doc: 'The reward files, each { "file": ..., "weight"?: 1, "functions"?: [names] }. A completion\'s reward R is the weighted sum of every function\'s value.',
  }),
  lora: optionalRecord({
    fields: LORA_FIELDS,
    doc: 'Train LoRA adapters instead of every weight (PEFT\'s LoraConfig: { "r": 16, "lora_alpha": 32, "target_modules": "all-linear" }). Only the adapters get gradients and Adam\'s moments; with kl_coef > 0 the reference is the base model (adapters off), so no second copy of the weights is held; checkpoints are PEFT adapter folders. Absent: full fine-tuning.',
  }),
  output_dir: path({ default: '.grpo/runs', doc: 'Where each run writes its folder (config snapshot, metrics.jsonl, rollouts, checkpoints).' }),
  chat_template: flag({
    default: false,
    doc: 'Render text prompts as one user turn with the model\'s chat template. Off by default because a base model continues plain text; turn it on for instruction-tuned models. Prompts given as chat messages always need the template.',
  }),

  // Rollout: sampling G completions for each prompt.
  rollout_batch_size: integer({ min: 1, default: 8, doc: 'Prompts sampled from the dataset per iteration. Each yields group_size completions.' }),
  group_size: integer({
    min: 2,
    default: 8,
    why: 'an advantage compares a completion with the others of its group, so a group needs at least 2',
    doc: 'Completions sampled per prompt (G in DeepSeekMath; TRL\'s num_generations). Larger groups give better-centred advantages at a proportional generation cost.',
  }),
  max_new_tokens: integer({
    min: 1,
    default: 128,
    doc: 'The longest completion, in tokens (TRL\'s max_completion_length). Also the divisor of loss_type "dr_grpo". 128, not TRL\'s 256, because on a CPU generation time dominates an iteration.',
  }),
  max_prompt_tokens: integer({ min: 1, default: 256, doc: 'The longest prompt, in tokens, after any chat template is applied.' }),
  temperature: real({
    above: 0,
    default: 1,
    why: 'GRPO needs different completions within a group; use eval with --greedy for deterministic decoding',
    doc: 'Sampling temperature. 1 samples from the policy itself, so the log-probabilities at rollout time are those of the distribution sampled.',
  }),
  top_p: real({ above: 0, max: 1, default: 1, doc: 'Nucleus sampling (Holtzman et al. 2019): keep the smallest set of tokens whose probability reaches top_p. 1 disables it.' }),
  top_k: integer({ min: 0, default: 0, doc: 'Keep only the k most likely tokens. 0 disables it.' }),
  min_p: real({ min: 0, below: 1, default: 0, doc: 'Drop tokens less likely than min_p times the most likely one (Nguyen et al. 2024). 0 disables it.' }),
  repetition_penalty: real({ above: 0, default: 1, doc: 'CTRL-style penalty (Keskar et al. 2019) on tokens already in the prompt or completion; > 1 discourages repeats. 1 disables it.' }),
  stop: texts({ default: [], doc: 'Strings that end a completion (in addition to the model\'s end-of-sequence tokens): it ends with the token that completes one. Those tokens stay in the completion (trained on, as an end-of-sequence token is); the text the rewards see ends before the stop string.' }),

  // Optimisation.
  num_iterations: integer({
    min: 1,
    default: 100,
    doc: 'Training iterations, each a rollout, its rewards and ppo_epochs passes of updates. Not TRL\'s num_iterations, which is ppo_epochs here.',
  }),
  ppo_epochs: integer({
    min: 1,
    default: 1,
    doc: 'Passes over each iteration\'s completions (mu in DeepSeekMath; TRL\'s num_iterations; PPO\'s epochs). Above 1 reuses costly rollouts, and the clipped ratio keeps the later passes near the rollout policy.',
  }),
  minibatch_size: integer({
    min: 1,
    default: 16,
    doc: 'Completions per optimizer step. rollout_batch_size x group_size must be a multiple of it. Each step holds the logits of minibatch_size sequences in memory, so lower it for a large vocabulary.',
  }),
  learning_rate: real({
    above: 0,
    default: 1e-5,
    doc: 'Peak AdamW learning rate. TRL uses 1e-6 for billion-parameter models; small models need and tolerate larger steps.',
  }),
  warmup_iterations: integer({ min: 0, default: 0, doc: 'Iterations over which the learning rate rises linearly to learning_rate, before lr_schedule applies.' }),
  lr_schedule: choice({
    values: ['constant', 'linear', 'cosine'],
    default: 'constant',
    doc: 'The learning rate after warmup: constant (as in DeepSeekMath\'s RL stage), or decaying linearly or along a half cosine towards 0 at num_iterations.',
  }),
  weight_decay: real({
    min: 0,
    default: 0,
    doc: 'AdamW decoupled weight decay (Loshchilov & Hutter). 0 because decay pulls the weights towards zero, away from the pretrained model rather than towards it.',
  }),
  adam_beta1: real({ min: 0, below: 1, default: 0.9, doc: 'AdamW first-moment decay.' }),
  adam_beta2: real({ min: 0, below: 1, default: 0.999, doc: 'AdamW second-moment decay.' }),
  adam_eps: real({ above: 0, default: 1e-8, doc: 'AdamW denominator epsilon.' }),
  max_grad_norm: real({ min: 0, default: 1, doc: 'Clip the gradient to this global L2 norm before each step. 0 disables clipping.' }),
  seed: integer({ min: 0, max: 4294967295, default: 42, doc: 'Seeds prompt order, sampling and initialisation, so a run (and a resumed run) is reproducible.' }),

  // Loss.
  kl_coef: real({
    min: 0,
    default: 0.04,
    doc: 'beta: weight of the k3 KL estimate to the reference model, exp(ref - logp) - (ref - logp) - 1 per token (DeepSeekMath, which uses 0.04). 0 holds no reference model at all: less memory and one forward pass fewer per step (DAPO and Dr. GRPO drop the term).',
  }),
  use_bias_correction_kl: flag({
    default: true,
    doc: 'Multiply the per-token KL term by the importance ratio pi/pi_old, so its gradient is the unbiased gradient of the reverse KL to the reference also off-policy (DeepSeek-V3.2; TRL\'s default). It changes the gradient even on-policy, where the ratio is 1 but differentiable. false: the plain k3 term of DeepSeekMath.',
  }),
  epsilon: real({ above: 0, below: 1, default: 0.2, doc: 'Lower clipping bound: the ratio pi/pi_old is clipped to [1 - epsilon, 1 + epsilon_high] (PPO, DeepSeekMath).' }),
  epsilon_high: realFrom({
    from: 'epsilon',
    above: 0,
    doc: 'Upper clipping bound. Defaults to epsilon. DAPO\'s clip-higher raises it alone (0.28) so unlikely tokens with a positive advantage can grow, which keeps entropy from collapsing. With loss_type "cispo", the cap on the importance weight itself (ScaleRL recommends 5).',
  }),
  delta: optionalReal({
    above: 1,
    doc: 'Two-sided clipping (INTELLECT-2): the unclipped ratio is also capped at delta, so a token with a negative advantage cannot push its ratio without bound. Absent: off. Choose it above 1 + epsilon_high (INTELLECT-2 uses 4).',
  }),
  importance_sampling_level: choice({
    values: ['token', 'sequence'],
    default: 'token',
    doc: 'token: one ratio pi/pi_old per token (PPO, DeepSeekMath). sequence: one ratio per completion, the exponential of the mean log-ratio of its tokens (GSPO), clipped as a whole; pair it with loss_type "grpo" for GSPO\'s objective.',
  }),
  loss_type: choice({
    values: ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'cispo'],
    default: 'dapo',
    doc: 'How per-token losses are averaged, per optimizer step as TRL does. grpo: over each completion\'s tokens, then over the minibatch\'s completions (DeepSeekMath; favours short right answers and long wrong ones). bnpo: over the minibatch\'s tokens. dr_grpo: the sum divided by minibatch_size x max_new_tokens (Dr. GRPO). dapo: the sum divided by the iteration\'s tokens per optimizer step, so every token of the batch weighs the same (DAPO; the default, as in TRL). cispo: normalised as dapo, but the importance weight is clipped at epsilon_high and not differentiated, so every token keeps a gradient (MiniMax-M1; set epsilon_high to about 5).',
  }),
  scale_rewards: choice({
    values: ['group', 'batch', 'none'],
    default: 'group',
    doc: 'The divisor of advantages: group divides (R - group mean) by the group\'s standard deviation (DeepSeekMath); batch by the whole batch\'s; none does not divide (Dr. GRPO: the group std biases learning towards too easy and too hard prompts).',
  }),
  multi_objective_aggregation: choice({
    values: ['sum_then_normalize', 'normalize_then_sum'],
    default: 'sum_then_normalize',
    doc: 'With several reward functions: sum_then_normalize adds the weighted rewards, then forms advantages as scale_rewards says. normalize_then_sum first normalises each function\'s rewards within its group, sums them with their weights, and normalises that sum over the batch (GDPO), so a function with a large range cannot drown the others.',
  }),
  top_entropy_quantile: real({
    min: 0,
    max: 1,
    default: 1,
    doc: 'Keep the policy term only on this top share of completion tokens by entropy, per minibatch (rho of "Beyond the 80/20 rule", which recommends 0.2). 1 keeps every token; 0 keeps only the highest. The KL term still covers every token.',
  }),
  entropy_coef: real({
    default: 0,
    doc: 'Weight of an entropy bonus: the loss minus entropy_coef x the mean token entropy of the policy, the same for every loss_type. Positive values encourage exploration. With use_adaptive_entropy, the starting value.',
  }),
  use_adaptive_entropy: flag({
    default: false,
    doc: 'Adaptive entropy control (Skywork-OR1): after each optimizer step entropy_coef moves by entropy_coef_delta, up when the entropy is at or below entropy_target and down otherwise, within [entropy_coef_min, entropy_coef_max]; the bonus applies only while the entropy is at or below the target.',
  }),
  entropy_coef_min: real({ min: 0, default: 0, doc: 'Lower bound of entropy_coef under use_adaptive_entropy.' }),
  entropy_coef_max: real({ min: 0, default: 1, doc: 'Upper bound of entropy_coef under use_adaptive_entropy.' }),
  entropy_coef_delta: real({ above: 0, default: 0.005, doc: 'Step of entropy_coef per optimizer step under use_adaptive_entropy.' }),
  entropy_target: real({
    min: 0,
    default: 0.2,
    doc: 'Target mean token entropy in nats for use_adaptive_entropy. Language models usually sit at 1 to 10 nats, so the default only acts near collapse; set it near the entropy of the first iterations.',
  }),
  mask_truncated_completions: flag({
    default: false,
    doc: 'Leave completions cut off at max_new_tokens out of the loss, so an unfinished answer is not punished for its truncation (DAPO\'s overlong filtering).',
  }),

  // Reference model for the KL term.
  reference_mode: choice({
    values: ['static', 'ema', 'periodic'],
    default: 'static',
    doc: 'The reference model: static keeps the initial model (DeepSeekMath); ema moves it after every iteration to ema_alpha x policy + (1 - ema_alpha) x reference; periodic replaces it with the policy every reference_update_freq iterations (TR-DPO-style, Gorbatovski et al. 2024). Unused when kl_coef is 0.',
  }),
  ema_alpha: real({ above: 0, max: 1, default: 0.05, doc: 'Weight of the policy in each EMA update of the reference; 0.05 is a time constant of about 20 iterations.' }),
  reference_update_freq: integer({ min: 1, default: 10, doc: 'Iterations between copies of the policy into the reference when reference_mode is periodic.' }),

  // Rewards, run and engine.
  reward_timeout_ms: integer({
    min: 1,
    default: DEFAULT_REWARD_TIMEOUT_MS,
    doc: 'Time limit of one reward-function call, in milliseconds; a call past it is terminated and its samples get NaN, and a function that overruns 3 times in an iteration is skipped for the rest of it. 30 s because a batched function scores a whole iteration in one call.',
  }),
  reward_child_processes: flag({
    default: false,
    doc: 'Whether reward functions may start child processes and worker threads (to run generated code with a real interpreter, for example). Off by default: reward code runs under Node\'s permission model and may write only inside the workspace and output_dir.',
  }),
  eval_every: integer({
    min: 0,
    default: 0,
    doc: 'Score the held-out prompts (eval_dataset_path, greedy) every this many iterations, besides before and after training; results go to evaluations.jsonl. 0: only before and after.',
  }),
  checkpoint_every: integer({ min: 0, default: 10, doc: 'Save a checkpoint every this many iterations (and always when training stops). 0: only when training stops.' }),
  keep_checkpoints: integer({ min: 0, default: 3, doc: 'How many of the newest checkpoints to keep; older ones are deleted. 0 keeps all.' }),
  max_consecutive_nonfinite: integer({
    min: 1,
    default: 3,
    doc: 'Updates with a NaN or infinite loss or gradient are skipped and counted; this many in a row stops training with an error.',
  }),
  memory_budget_mb: integer({
    min: 0,
    default: 0,
    doc: 'Memory the compute backend may use, in MiB; chunk sizes (rows scored at once, micro-batches of an optimizer step, slices of the output head) are planned to fit it, and a config that cannot fit is refused before training. 0: 75% of the wasm heap (4 GiB) on wasm, at most 70% of the machine\'s memory.',
  }),
  gradient_checkpointing: flagOrAuto({
    doc: 'Recompute each decoder layer\'s activations in the backward pass instead of keeping them (TRL\'s and transformers\' gradient checkpointing): a training step then holds one layer\'s activations at a time, for one more forward pass of the layers, and the memory plan can take larger micro-batches. auto, in the tfjs engine: on where an optimizer step would otherwise keep more than 512 MiB of activations (micro-batches together) or the update would not fit (a 25M model at 32 x 96 tokens: 7.5 -> 2.9 GB resident, +10% update time; at 135M the larger micro-batches make the update 1.18x faster), off below that, where the extra pass costs more than the memory is worth. Under "engine": "trl", auto is TRL\'s default (true).',
  }),
  engine: choice({
    values: ['tfjs', 'trl'],
    default: 'tfjs',
    doc: 'What trains. tfjs: GRPO Studio\'s own engine (TF.js, in the trainer process). trl: TRL\'s GRPOTrainer in a Python process (torch on CUDA when it sees a GPU, else Apple MPS or the CPU), with these settings mapped field by field to GRPOConfig (a setting with no TRL counterpart is refused with the reason), the TypeScript rewards, metrics, rollouts, evaluations and controls of GRPO Studio; checkpoints are TRL\'s. Needs a Python with trl, peft and torch: GRPO_PYTHON, the grpo.pythonPath setting or --python name it, else python3.',
  }),
  backend: choice({
    values: ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'],
    default: 'auto',
    doc: 'TF.js backend: auto takes native TensorFlow (tfjs-node, -gpu) where installed, else wasm, else the slow pure-JS cpu backend. webgpu (never chosen by auto) runs on the GPU through Dawn, the optional webgpu package (Vulkan, Metal or D3D12; no CUDA toolkit), once a start-up self-test has matched its gradients to wasm\'s; where Dawn finds no adapter or the test fails, the run trains on wasm and its log says why.',
  }),
  rollout_engine: choice({
    values: ['auto', 'llama.cpp', 'tfjs'],
    default: 'auto',
    doc: 'What samples the completions. llama.cpp (node-llama-cpp, an optional dependency) decodes several times faster on a CPU; the policy\'s weights are handed to it after every update and the log-probabilities stay computed by the trainer, so the loss is the same. auto takes llama.cpp for models of 5M parameters and more, and for smaller ones from max_new_tokens 128 (below both, tfjs samples as fast), where it loads, the model and sampling settings map exactly and the backend is not native TensorFlow, and says in the run log why not otherwise; tfjs samples in the training engine.',
  }),
  update_threads: integer({
    min: 0,
    max: 2,
    default: 0,
    doc: 'Threads for the update on the wasm backend: 2 runs half of each optimizer step\'s micro-batches in a second TF.js on the other core, with the same result within float32 rounding. 0 (auto): 2 for full fine-tuning on a machine of 2 cores or more, else 1. LoRA runs use 1. The worker holds a second copy of the weights and its own activations.',
  }),
  rollout_weights: choice({
    values: ['f32', 'f16'],
    default: 'f32',
    doc: 'Precision of the weights llama.cpp samples with. f32 samples the policy exactly; f16 halves the memory it reads per token, but measured no faster at 32 rows on 2 cores (bench/RESULTS.md), and its log-probabilities differ from the trained model\'s by up to 4.6e-3 on the test models, so completions are drawn from a slightly different distribution (the loss still uses exact log-probabilities).',
  }),
};

export type TrainingConfig = ValuesOf<typeof TRAINING_CONFIG_FIELDS>;
export type RewardSpec = TrainingConfig['rewards'][number];
export type LossType = TrainingConfig['loss_type'];
export type RewardScaling = TrainingConfig['scale_rewards'];
export type ReferenceMode = TrainingConfig['reference_mode'];

/** Every field that has a default, at its default; epsilon_high follows epsilon. */
export const DEFAULT_TRAINING_CONFIG = Object.freeze(defaultsOf(TRAINING_CONFIG_FIELDS)) as Readonly<
  Omit<TrainingConfig, 'model_path' | 'dataset_path' | 'rewards' | 'eval_dataset_path'>
>;

export interface ParseOptions {
  /** Resolve relative paths (model, datasets, reward files, output) against this folder. */
  baseDir?: string;
  /** Receives a note for each TRL name read as ours ("beta" read as "kl_coef"). */
  notes?: string[];
}

/**
 * Validates a parsed grpo.config.json and fills its defaults. Throws a UserError naming
 * `file`, the field and the fix for unknown keys, wrong types, out-of-range values and
 * settings that contradict each other.
 */
export function parseTrainingConfig(json: unknown, file: string, options: ParseOptions = {}): TrainingConfig {
  const { baseDir } = options;
  try {
    const config = readObject(
      TRAINING_CONFIG_FIELDS,
      renameTrlNames(json, options.notes),
      { at: '', resolvePath: baseDir === undefined ? undefined : (p) => resolve(baseDir, p) },
      { ignore: ['$schema'], aliases: TRL_DIFFERENT },
    );
    checkAcrossFields(config);
    return config;
  } catch (e) {
    if (e instanceof FieldProblem) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * A TRL user's names for settings that mean the same here are read as ours, with a note;
 * names whose meaning differs are left for readObject to refuse with the reason.
 */
function renameTrlNames(json: unknown, notes: string[] | undefined): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const [trl, ours] of Object.entries(TRL_SAME)) {
    if (!(trl in out)) continue;
    if (ours in out) throw new FieldProblem(`"${trl}" (TRL's name) and "${ours}" set the same thing; keep one`);
    out[ours] = out[trl];
    delete out[trl];
    notes?.push(`"${trl}" is TRL's name for "${ours}"; read as "${ours}"`);
  }
  return out;
}

function checkAcrossFields(c: TrainingConfig): void {
  const completions = c.rollout_batch_size * c.group_size;
  if (completions % c.minibatch_size !== 0) {
    throw new FieldProblem(
      `minibatch_size ${c.minibatch_size} does not divide the ${completions} completions of an iteration ` +
        `(rollout_batch_size ${c.rollout_batch_size} x group_size ${c.group_size}); set minibatch_size to one of ` +
        `${divisorsOf(completions).join(', ')}, or change rollout_batch_size so that the product is a multiple of ${c.minibatch_size}`,
    );
  }
  if (c.epsilon_high < c.epsilon) {
    throw new FieldProblem(
      `epsilon_high ${c.epsilon_high} is below epsilon ${c.epsilon}; set epsilon_high to at least ${c.epsilon} ` +
        '(clip-higher widens only the upper bound), or remove it to use epsilon',
    );
  }
  if (c.loss_type === 'cispo' && c.epsilon_high < 1) {
    throw new FieldProblem(
      `loss_type "cispo" caps the importance weight itself at epsilon_high, and ${c.epsilon_high} would cap every ratio below 1; ` +
        'set epsilon_high to the cap (ScaleRL recommends 5)',
    );
  }
  if (c.use_adaptive_entropy && c.entropy_coef_min > c.entropy_coef_max) {
    throw new FieldProblem(`entropy_coef_min ${c.entropy_coef_min} exceeds entropy_coef_max ${c.entropy_coef_max}; swap them`);
  }
  if (c.warmup_iterations > c.num_iterations) {
    throw new FieldProblem(
      `warmup_iterations ${c.warmup_iterations} exceeds num_iterations ${c.num_iterations}; set warmup_iterations to at most ${c.num_iterations}`,
    );
  }
}

/**
 * Divisors of `n` to suggest, in order: all of them for the batch sizes people use, the
 * smallest and largest few otherwise. Trial division stops at 10^5, so a batch of 2^60
 * completions is answered at once (it used to build an array of n numbers).
 */
function divisorsOf(n: number, show = 24): string[] {
  const small: number[] = [];
  const large: number[] = [];
  const limit = Math.min(Math.sqrt(n), 100_000);
  for (let d = 1; d <= limit; d++) {
    if (n % d !== 0) continue;
    small.push(d);
    if (d * d !== n) large.unshift(n / d);
  }
  const complete = Math.sqrt(n) <= 100_000;
  const all = [...small, ...(complete ? [] : ['...']), ...large].map(String);
  return all.length <= show ? all : [...all.slice(0, show / 2), '...', ...all.slice(-show / 2)];
}

/**
 * Settings that are valid but probably not what the user meant, one line each, for the
 * trainer to report as warnings.
 */
export function trainingConfigWarnings(c: TrainingConfig, file: string): string[] {
  const warnings: string[] = [];
  if (c.num_iterations <= 4) {
    warnings.push(
      `${file}: num_iterations ${c.num_iterations} counts training iterations here (a rollout and its updates each), so this run stops after ${c.num_iterations}; ` +
        'TRL\'s num_iterations, the passes over each batch, is ppo_epochs here',
    );
  }
  if (c.importance_sampling_level === 'sequence' && c.loss_type !== 'grpo') {
    warnings.push(
      `${file}: importance_sampling_level "sequence" with loss_type "${c.loss_type}" sums per-token terms, weighting each completion by its length; GSPO's objective is loss_type "grpo"`,
    );
  }
  if (c.delta !== undefined && c.delta <= 1 + c.epsilon_high) {
    warnings.push(`${file}: delta ${c.delta} is within the clip band's top (1 + epsilon_high = ${1 + c.epsilon_high}), so it caps ratios the clip already handles; choose delta above ${1 + c.epsilon_high}`);
  }
  if (c.kl_coef === 0 && c.reference_mode !== 'static') {
    warnings.push(`${file}: reference_mode "${c.reference_mode}" has no effect with kl_coef 0 (no reference model is held); set kl_coef above 0 or remove reference_mode`);
  }
  return warnings;
}

/** Reads and validates a settings file; relative paths in it are taken from its folder. */
export async function loadTrainingConfig(file: string, notes?: string[]): Promise<TrainingConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read the training settings (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the --config path`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message}); fix the syntax`);
  }
  return parseTrainingConfig(json, file, { baseDir: dirname(resolve(file)), notes });
}

/** The draft-07 JSON Schema of grpo.config.json, for VS Code's jsonValidation. */
export function trainingConfigJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'GRPO Studio training settings (grpo.config.json)',
    ...objectSchema(TRAINING_CONFIG_FIELDS, { $schema: { type: 'string', description: 'The JSON Schema this file follows.' } }),
  };
}
