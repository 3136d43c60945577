import type { RewardScores } from '../rewards/scores';
import type { Rollout } from './rollout';

/**
 * One JSON line per completion for rollouts/iter-N.jsonl: what the dashboard's rollout
 * browser shows, and enough to re-score it later (token ids and per-token log-probabilities
 * of the policy and the reference).
 */
export function rolloutRecords(rollout: Rollout, scores: RewardScores, advantages: Float64Array): Record<string, unknown>[] {
  const c = rollout.batch.completionLength;
  const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e5) / 1e5 : null);
  return rollout.samples.map((s, r) => {
    const n = s.completionIds.length;
    return {
      group: s.group,
      member: s.member,
      row: s.rowIndex,
      prompt: s.prompt,
      completion: s.completion,
      completion_ids: s.completionIds,
      finish_reason: s.finishReason,
      reward: round(scores.total[r]),
      rewards: Object.fromEntries(scores.functions.map((f) => [f.name, round(f.values[r])])),
      advantage: round(advantages[r]),
      logprobs: Array.from(rollout.oldLogprobs.subarray(r * c, r * c + n), round),
      ref_logprobs: rollout.refLogprobs ? Array.from(rollout.refLogprobs.subarray(r * c, r * c + n), round) : null,
    };
  });
}
