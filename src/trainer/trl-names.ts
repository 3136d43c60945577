// TRL's GRPOConfig names, for its users. Names that mean the same here are read as ours
// (with a note); names whose meaning differs are refused with what to write instead, so a
// TRL config never silently means something else. Fields whose names and meanings agree
// (learning_rate, epsilon, epsilon_high, delta, loss_type, scale_rewards, temperature, top_p,
// top_k, min_p, repetition_penalty, importance_sampling_level, top_entropy_quantile,
// entropy_coef and the adaptive entropy settings, mask_truncated_completions,
// multi_objective_aggregation, weight_decay, adam_beta1/2, max_grad_norm, seed, output_dir)
// need no entry. TRL's num_iterations is the one name that exists on both sides with another
// meaning: trainingConfigWarnings warns about it.

/** TRL name -> ours, same meaning. */
export const TRL_SAME: Readonly<Record<string, string>> = {
  beta: 'kl_coef',
  num_generations: 'group_size',
  max_completion_length: 'max_new_tokens',
  max_prompt_length: 'max_prompt_tokens',
  lr_scheduler_type: 'lr_schedule',
  save_total_limit: 'keep_checkpoints',
  adam_epsilon: 'adam_eps',
  // With one optimizer step per minibatch (no gradient accumulation), TRL's per-device batch
  // of completions is our minibatch.
  per_device_train_batch_size: 'minibatch_size',
};

/** TRL name -> what it is here, when the meaning differs: the text after "it is ... here". */
export const TRL_DIFFERENT: Readonly<Record<string, string>> = {
  warmup_steps: 'counted in iterations as "warmup_iterations" (TRL counts optimizer steps; an iteration takes completions / minibatch_size x ppo_epochs of them)',
  save_steps: 'counted in iterations as "checkpoint_every" (TRL counts optimizer steps)',
  reward_weights: 'given per reward file as "rewards[].weight"',
  generation_batch_size: 'set as "rollout_batch_size" prompts, each with group_size completions (TRL counts completions)',
  steps_per_generation: 'set by "minibatch_size": an iteration takes completions / minibatch_size optimizer steps per epoch',
  gradient_accumulation_steps: 'not needed: each minibatch is one optimizer step; set "minibatch_size" to the completions per step',
  num_train_epochs: 'set as "num_iterations", the number of rollouts (each followed by its updates)',
  max_steps: 'set as "num_iterations", the number of rollouts (each followed by its updates)',
  sync_ref_model: 'chosen with "reference_mode": "ema" (every iteration, weight ema_alpha) or "periodic" (a copy every reference_update_freq iterations)',
  ref_model_mixup_alpha: 'set as "ema_alpha" with "reference_mode": "ema"',
  ref_model_sync_steps: 'set as "reference_update_freq" (in iterations) with "reference_mode": "periodic"',
};
