// The training settings of a GRPO run, declared once. The TypeScript type, the defaults,
// the validation of grpo.config.json and its JSON Schema are all derived from FIELDS.
//
// Papers cited in the field docs:
//   DeepSeekMath  Shao et al. 2024, arXiv:2402.03300: GRPO, group-relative advantages, k3 KL.
//   PPO           Schulman et al. 2017, arXiv:1707.06347: the clipped surrogate, epochs over a batch.
//   DAPO          Yu et al. 2025, arXiv:2503.14476: clip-higher, token-level loss, overlong masking.
//   Dr. GRPO      Liu et al. 2025, arXiv:2503.20783: no length or std normalisation.
//   AdamW         Loshchilov & Hutter 2019, arXiv:1711.05101.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors';
import {
  choice, defaultsOf, FieldProblem, flag, integer, objectSchema, optionalPath, optionalTexts, path, readObject, real, realFrom, records, texts,
  type JsonSchema, type ValuesOf,
} from './config-fields';

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
  stop: texts({ default: [], doc: 'Strings that end a completion (in addition to the model\'s end-of-sequence tokens). The stop string is kept in the completion.' }),

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
  epsilon: real({ above: 0, below: 1, default: 0.2, doc: 'Lower clipping bound: the ratio pi/pi_old is clipped to [1 - epsilon, 1 + epsilon_high] (PPO, DeepSeekMath).' }),
  epsilon_high: realFrom({
    from: 'epsilon',
    above: 0,
    doc: 'Upper clipping bound. Defaults to epsilon. DAPO\'s clip-higher raises it alone (0.28) so unlikely tokens with a positive advantage can grow, which keeps entropy from collapsing.',
  }),
  loss_type: choice({
    values: ['grpo', 'bnpo', 'dr_grpo', 'dapo'],
    default: 'dapo',
    doc: 'How per-token losses are averaged. grpo: over each completion\'s tokens, then over completions (DeepSeekMath; favours short right answers and long wrong ones). bnpo: over the minibatch\'s tokens. dr_grpo: the sum divided by completions x max_new_tokens (Dr. GRPO). dapo: over the tokens of the whole iteration\'s batch, so every token weighs the same (DAPO; the default, as in TRL).',
  }),
  scale_rewards: choice({
    values: ['group', 'batch', 'none'],
    default: 'group',
    doc: 'The divisor of advantages: group divides (R - group mean) by the group\'s standard deviation (DeepSeekMath); batch by the whole batch\'s; none does not divide (Dr. GRPO: the group std biases learning towards too easy and too hard prompts).',
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
    default: 30000,
    doc: 'Time limit of one reward-function call, in milliseconds; a call past it is terminated and its samples get NaN. Generous because a batched function scores a whole iteration in one call.',
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
  backend: choice({
    values: ['auto', 'tensorflow', 'wasm', 'cpu'],
    default: 'auto',
    doc: 'TF.js backend: auto takes native TensorFlow (tfjs-node, -gpu) where installed, else wasm, else the slow pure-JS cpu backend.',
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

/** Names TRL uses for the same settings, so its users are told the name used here. */
const TRL_NAMES: Record<string, string> = {
  beta: 'kl_coef',
  num_generations: 'group_size',
  max_completion_length: 'max_new_tokens',
  max_prompt_length: 'max_prompt_tokens',
  lr_scheduler_type: 'lr_schedule',
  warmup_steps: 'warmup_iterations',
  save_steps: 'checkpoint_every',
  save_total_limit: 'keep_checkpoints',
  reward_weights: 'rewards[].weight',
};

export interface ParseOptions {
  /** Resolve relative paths (model, datasets, reward files, output) against this folder. */
  baseDir?: string;
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
      json,
      { at: '', resolvePath: baseDir === undefined ? undefined : (p) => resolve(baseDir, p) },
      { ignore: ['$schema'], aliases: TRL_NAMES },
    );
    checkAcrossFields(config);
    return config;
  } catch (e) {
    if (e instanceof FieldProblem) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
}

function checkAcrossFields(c: TrainingConfig): void {
  const completions = c.rollout_batch_size * c.group_size;
  if (completions % c.minibatch_size !== 0) {
    const divisors = Array.from({ length: completions }, (_, i) => i + 1).filter((d) => completions % d === 0);
    throw new FieldProblem(
      `minibatch_size ${c.minibatch_size} does not divide the ${completions} completions of an iteration ` +
        `(rollout_batch_size ${c.rollout_batch_size} x group_size ${c.group_size}); set minibatch_size to one of ` +
        `${divisors.join(', ')}, or change rollout_batch_size so that the product is a multiple of ${c.minibatch_size}`,
    );
  }
  if (c.epsilon_high < c.epsilon) {
    throw new FieldProblem(
      `epsilon_high ${c.epsilon_high} is below epsilon ${c.epsilon}; set epsilon_high to at least ${c.epsilon} ` +
        '(clip-higher widens only the upper bound), or remove it to use epsilon',
    );
  }
  if (c.warmup_iterations > c.num_iterations) {
    throw new FieldProblem(
      `warmup_iterations ${c.warmup_iterations} exceeds num_iterations ${c.num_iterations}; set warmup_iterations to at most ${c.num_iterations}`,
    );
  }
}

/**
 * Settings that are valid but probably not what the user meant, one line each, for the
 * trainer to report as warnings.
 */
export function trainingConfigWarnings(c: TrainingConfig, file: string): string[] {
  const warnings: string[] = [];
  if (c.kl_coef === 0 && c.reference_mode !== 'static') {
    warnings.push(`${file}: reference_mode "${c.reference_mode}" has no effect with kl_coef 0 (no reference model is held); set kl_coef above 0 or remove reference_mode`);
  }
  return warnings;
}

/** Reads and validates a settings file; relative paths in it are taken from its folder. */
export async function loadTrainingConfig(file: string): Promise<TrainingConfig> {
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
  return parseTrainingConfig(json, file, { baseDir: dirname(resolve(file)) });
}

/** The draft-07 JSON Schema of grpo.config.json, for VS Code's jsonValidation. */
export function trainingConfigJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'GRPO Studio training settings (grpo.config.json)',
    ...objectSchema(TRAINING_CONFIG_FIELDS, { $schema: { type: 'string', description: 'The JSON Schema this file follows.' } }),
  };
}
