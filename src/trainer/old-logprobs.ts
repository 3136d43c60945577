import type { CausalLM } from '../model/causal-lm';
import type { TrainingConfig } from './config';

/**
 * Whether the rollout's separate scoring pass under the policy can be left out, its
 * log-probabilities read from the update's own forward pass instead.
 *
 * When an iteration makes exactly one optimizer step (ppo_epochs 1 and minibatch_size equal
 * to the rollout's completions), that step's forward pass runs on the weights that sampled the
 * rollout: its log-probabilities are the old ones, and the ratio to them is exactly 1. TRL's
 * GRPOTrainer skips the pass in the same case (num_iterations 1, one optimizer step per
 * generation) and compares with the detached current log-probabilities; so do we
 * (policy-step.ts), which saves a whole forward over the rollout, about a sixth of an
 * iteration. The values read are recorded in the rollout file as before.
 *
 * Not with LoRA dropout: the training forward drops inputs, so its log-probabilities are not
 * the sampling policy's, and the rollout file would show other values than those sampled.
 */
export function oldLogprobsFromUpdate(config: TrainingConfig, policy: CausalLM): boolean {
  const completions = config.rollout_batch_size * config.group_size;
  const dropout = policy.lora !== undefined && policy.lora.spec.dropout > 0;
  return config.ppo_epochs === 1 && config.minibatch_size === completions && !dropout;
}
