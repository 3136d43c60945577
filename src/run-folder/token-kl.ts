/**
 * Per-token KL to the reference, the k3 estimator the loss uses (src/trainer/loss.ts):
 * exp(ref - logp) - (ref - logp) - 1, always >= 0. The logp of a rollout record is the policy
 * at rollout time, so this is the KL the iteration started from. Shared by the dashboard's
 * rollout browser and the completion documents, so both show the same number.
 */
export function tokenKl(logprob: number, refLogprob: number): number {
  const d = refLogprob - logprob;
  return Math.exp(d) - d - 1;
}
