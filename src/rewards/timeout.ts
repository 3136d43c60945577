/**
 * The time limit of one reward-function call when nothing sets another: the config's
 * reward_timeout_ms default, the runner's, and `grpo eval --reward-timeout-ms`. 30 s because a
 * batched function scores a whole iteration in one call.
 */
export const DEFAULT_REWARD_TIMEOUT_MS = 30_000;

