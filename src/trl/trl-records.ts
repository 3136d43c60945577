// The run folder's lines for a trl-engine run, from what TRL sent and what the rewards gave:
// the same records as the tfjs engine writes (rollout-records.ts, evaluate.ts).
import type { RewardScores } from '../rewards/scores';
import type { PromptRow } from '../trainer/dataset';
import { EvaluationTally } from '../trainer/evaluation-tally';
import type { TrlRolloutSample, TrlSample } from './trl-process';

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e5) / 1e5 : null);

/** Each reward function TRL calls, by name: its values, null where it gave none (TRL: NaN). */
export function scoreReply(scores: RewardScores, names: readonly string[]): Record<string, (number | null)[]> {
  const n = scores.total.length;
  const byName = new Map(scores.functions.map((f) => [f.name, f.values]));
  // A function a reload removed scores nothing: null for every sample, as a failed one.
  return Object.fromEntries(names.map((name) => [name, Array.from({ length: n }, (_, i) => round(byName.get(name)?.[i] ?? NaN))]));
}

/** rollouts/iter-N.jsonl: TRL's generation batch, in the order TRL generated it (groups together). */
export function rolloutLines(
  rollout: readonly TrlRolloutSample[],
  scored: readonly TrlSample[],
  scores: RewardScores,
  rows: readonly PromptRow[],
  promptText: (row: PromptRow) => string,
): Record<string, unknown>[] {
  return rollout.map((s, r) => ({
    group: s.group,
    member: s.member,
    row: s.row,
    prompt: promptText(rows[s.row]),
    completion: scored[r]?.completion ?? '',
    completion_ids: s.completion_ids,
    finish_reason: s.finish_reason,
    reward: round(scores.total[r]),
    rewards: Object.fromEntries(scores.functions.map((f) => [f.name, round(f.values[r])])),
    advantage: s.advantage,
    logprobs: s.logprobs,
    ref_logprobs: s.ref_logprobs,
  }));
}

/** One line of evaluations.jsonl, as the tfjs engine's evaluate() reports it. */
export function evaluationLine(iteration: number, scores: RewardScores, seconds: number) {
  const tally = new EvaluationTally();
  tally.add(scores);
  const { mean, total, failures } = tally.summary();
  return { iteration, prompts: scores.total.length, reward: total, rewards: mean, failures, seconds };
}
