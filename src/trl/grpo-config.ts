// grpo.config.json as TRL's GRPOConfig, field by field, for the trl engine. Every field is
// mapped, handled by GRPO Studio around TRL (rewards, evaluation, checkpoints' timing), or
// refused with the reason when set to anything but the value that means "not used": a run
// never means something else under TRL than it says.
import { UserError } from '../errors';
import { DEFAULT_TRAINING_CONFIG, type TrainingConfig } from '../trainer/config';

/** One GRPO Studio iteration in TRL's optimizer steps: a generation batch and its epochs of updates. */
export function stepsPerIteration(c: TrainingConfig): number {
  return ((c.rollout_batch_size * c.group_size) / c.minibatch_size) * c.ppo_epochs;
}

/** Fields of the tfjs engine only: refused under trl unless at their defaults. */
const TFJS_ONLY: Partial<Record<keyof TrainingConfig, string>> = {
  backend: 'it picks the TF.js backend; the trl engine computes with torch (CUDA, MPS or the CPU, whichever torch sees)',
  rollout_engine: 'it picks what samples for the tfjs engine; TRL samples with transformers (or vLLM where TRL is set up for it)',
  rollout_weights: 'it is the precision of llama.cpp rollouts, which the trl engine does not use',
  update_threads: "it splits the tfjs engine's update over threads; torch uses the machine's cores itself",
  memory_budget_mb: "it plans the tfjs engine's chunk sizes; TRL has no memory budget (lower minibatch_size to use less memory)",
  max_consecutive_nonfinite: 'TRL does not skip non-finite updates, so it has nothing to count',
};

/**
 * The GRPOConfig keyword arguments for `c`; `outputDir` is where TRL writes its checkpoints.
 * Throws a UserError naming `file`, the field and the fix for a setting TRL cannot honour.
 */
export function trlGrpoConfig(c: TrainingConfig, file: string, outputDir: string, rewardWeights: number[]): Record<string, unknown> {
  for (const [field, why] of Object.entries(TFJS_ONLY) as [keyof TrainingConfig, string][]) {
    if (JSON.stringify(c[field]) !== JSON.stringify(DEFAULT_TRAINING_CONFIG[field as keyof typeof DEFAULT_TRAINING_CONFIG])) {
      throw new UserError(`${file}: "${field}" cannot be honoured with "engine": "trl": ${why}; remove "${field}" or use "engine": "tfjs"`);
    }
  }
  if (c.stop.length > 0 && c.mask_truncated_completions) {
    throw new UserError(
      `${file}: "stop" with "mask_truncated_completions": true cannot be honoured with "engine": "trl": TRL counts a completion as finished only at EOS, so it would mask every completion a stop string ended; drop one of them or use "engine": "tfjs"`,
    );
  }
  const steps = stepsPerIteration(c);
  // TRL moves a full reference itself, when beta starts above 0; the rest (LoRA, a KL term
  // raised live) is python/grpo_trl/reference.py's, from the same numbers (trlReference).
  const moved = trlReference(c);
  const reference =
    c.kl_coef > 0 && !c.lora && c.reference_mode !== 'static'
      ? { sync_ref_model: true, ref_model_mixup_alpha: moved.alpha, ref_model_sync_steps: moved.every_steps }
      : { sync_ref_model: false };
  return {
    output_dir: outputDir,
    seed: c.seed,
    // Batching: a generation batch is one iteration's rollout_batch_size x group_size
    // completions; one optimizer step per minibatch, as here.
    num_generations: c.group_size,
    per_device_train_batch_size: c.minibatch_size,
    gradient_accumulation_steps: 1,
    steps_per_generation: (c.rollout_batch_size * c.group_size) / c.minibatch_size,
    num_iterations: c.ppo_epochs,
    max_steps: c.num_iterations * steps,
    // Sampling.
    max_completion_length: c.max_new_tokens,
    temperature: c.temperature,
    top_p: c.top_p,
    top_k: c.top_k,
    min_p: c.min_p > 0 ? c.min_p : null,
    repetition_penalty: c.repetition_penalty,
    // Optimisation. Here the learning rate is set per iteration, TRL sets it per optimizer
    // step: the same schedule, sampled finer.
    learning_rate: c.learning_rate,
    lr_scheduler_type: c.lr_schedule === 'constant' ? (c.warmup_iterations > 0 ? 'constant_with_warmup' : 'constant') : c.lr_schedule,
    warmup_steps: c.warmup_iterations * steps,
    weight_decay: c.weight_decay,
    adam_beta1: c.adam_beta1,
    adam_beta2: c.adam_beta2,
    adam_epsilon: c.adam_eps,
    max_grad_norm: c.max_grad_norm,
    // auto leaves TRL's own default (true); the tfjs engine's auto is its memory plan's.
    ...(c.gradient_checkpointing === 'auto' ? {} : { gradient_checkpointing: c.gradient_checkpointing }),
    // The loss: the same names, the same meanings.
    beta: c.kl_coef,
    use_bias_correction_kl: c.use_bias_correction_kl,
    epsilon: c.epsilon,
    epsilon_high: c.epsilon_high,
    delta: c.delta ?? null,
    importance_sampling_level: c.importance_sampling_level,
    loss_type: c.loss_type,
    scale_rewards: c.scale_rewards,
    multi_objective_aggregation: c.multi_objective_aggregation,
    top_entropy_quantile: c.top_entropy_quantile,
    entropy_coef: c.entropy_coef,
    use_adaptive_entropy: c.use_adaptive_entropy,
    entropy_coef_min: c.entropy_coef_min,
    entropy_coef_max: c.entropy_coef_max,
    entropy_coef_delta: c.entropy_coef_delta,
    entropy_target: c.entropy_target,
    mask_truncated_completions: c.mask_truncated_completions,
    reward_weights: rewardWeights,
    ...reference,
    // GRPO Studio writes the run folder: one log line per iteration, checkpoints when the
    // trainer process asks (checkpoint_every, a stop, the end, the editor's Save Checkpoint).
    logging_steps: steps,
    save_strategy: 'no',
    save_total_limit: c.keep_checkpoints > 0 ? c.keep_checkpoints : null,
    report_to: 'none',
    disable_tqdm: true,
    log_completions: false,
  };
}

/**
 * The reference as GRPO Studio means it, for the Python side: its mode, how far it moves
 * (ema: the policy's weight; periodic: a whole copy), every how many optimizer steps (one
 * iteration's, or reference_update_freq iterations'), and the adapter a LoRA run continues.
 */
export function trlReference(c: TrainingConfig): { mode: string; alpha: number; every_steps: number; adapter_path: string | null } {
  const steps = stepsPerIteration(c);
  const periodic = c.reference_mode === 'periodic';
  return {
    mode: c.reference_mode,
    alpha: periodic ? 1 : c.ema_alpha,
    every_steps: periodic ? c.reference_update_freq * steps : steps,
    adapter_path: c.lora?.adapter_path ?? null,
  };
}

/** PEFT's LoraConfig keyword arguments (the names are PEFT's on both sides). */
export function trlLoraConfig(c: TrainingConfig): Record<string, unknown> | undefined {
  if (!c.lora) return undefined;
  const l = c.lora;
  return {
    r: l.r,
    lora_alpha: l.lora_alpha,
    lora_dropout: l.lora_dropout,
    target_modules: l.target_modules,
    ...(l.modules_to_save ? { modules_to_save: l.modules_to_save } : {}),
    use_rslora: l.use_rslora,
  };
}
