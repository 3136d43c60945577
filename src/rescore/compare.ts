// Old against new: the rewards and advantages a run recorded for a rollout, next to those the
// reward functions give now. Pure arithmetic; advantages come from the trainer's own function.
import type { RewardScores } from '../rewards/scores';
import { computeAdvantages, rolloutAdvantages } from '../trainer/advantages';
import type { TrainingConfig } from '../trainer/config';
import { nanMean } from '../trainer/iteration-metrics';
import type { RescoredGroup, RescoredSample, RescoreReport } from './report';
import type { RolloutLine } from './rollout-file';

/** Rounded as the rollouts file rounds (src/trainer/rollout-records.ts), so unchanged values compare equal. */
function recordedValue(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 1e5) / 1e5 : null;
}

const asNumber = (x: number | null): number => x ?? NaN;

/** Group `g` by the trainer's own rule (the one behind frac_reward_zero_std). */
function isZeroStdGroup(rewards: Float64Array, g: number, groupSize: number): boolean {
  return computeAdvantages(rewards.subarray(g * groupSize, (g + 1) * groupSize), groupSize, 'none').zeroStdGroups === 1;
}

export type Comparison = Pick<RescoreReport, 'samples' | 'groups' | 'summary' | 'errors'>;

/** How the run formed advantages. */
export type AdvantageSettings = Pick<TrainingConfig, 'group_size' | 'scale_rewards' | 'multi_objective_aggregation'>;

/**
 * `lines` in group-then-member order; `scores` for the same completions in the same order.
 * The recorded side is re-formed from the recorded rewards, per function with today's
 * weights where the run normalised each function (normalize_then_sum).
 */
export function compareRollout(lines: readonly RolloutLine[], scores: RewardScores, settings: AdvantageSettings): Comparison {
  const groupSize = settings.group_size;
  const oldRewards = Float64Array.from(lines, (l) => asNumber(l.reward)); // [completions]
  const oldFunctions = scores.functions.map((f) => ({ weight: f.weight, values: Float64Array.from(lines, (l) => asNumber(l.rewards[f.name] ?? null)) }));
  const old = rolloutAdvantages({ functions: oldFunctions, total: oldRewards }, settings);
  const now = rolloutAdvantages(scores, settings);

  const samples: RescoredSample[] = lines.map((l, i) => ({
    group: l.group,
    member: l.member,
    row: l.row,
    completion: l.completion,
    oldReward: l.reward,
    newReward: recordedValue(scores.total[i]),
    oldRewards: l.rewards,
    newRewards: Object.fromEntries(scores.functions.map((f) => [f.name, recordedValue(f.values[i])])),
    oldAdvantage: l.advantage,
    newAdvantage: recordedValue(now.advantages[i]),
  }));

  const groups: RescoredGroup[] = [];
  for (let g = 0; g * groupSize < lines.length; g++) {
    const members = samples.slice(g * groupSize, (g + 1) * groupSize);
    const first = lines[g * groupSize];
    groups.push({
      group: first.group,
      row: first.row,
      prompt: first.prompt,
      oldMean: recordedValue(nanMean(members.map((s) => asNumber(s.oldReward)))),
      newMean: recordedValue(nanMean(members.map((s) => asNumber(s.newReward)))),
      oldStd: old.groupStd[g],
      newStd: now.groupStd[g],
      oldZeroStd: isZeroStdGroup(oldRewards, g, groupSize),
      newZeroStd: isZeroStdGroup(scores.total, g, groupSize),
    });
  }

  const signFlips = samples.filter((s) => asNumber(s.oldAdvantage) * asNumber(s.newAdvantage) < 0).length;
  const errors = scores.functions.flatMap((f) => f.errors.map((e) => ({ fn: f.name, file: f.file, ...e })));
  return {
    samples,
    groups,
    summary: {
      oldMeanReward: recordedValue(nanMean(samples.map((s) => asNumber(s.oldReward)))),
      newMeanReward: recordedValue(nanMean(samples.map((s) => asNumber(s.newReward)))),
      oldZeroStdShare: old.zeroStdGroups / groups.length,
      newZeroStdShare: now.zeroStdGroups / groups.length,
      signFlips,
      rewardFailures: errors.reduce((n, e) => n + e.samples.length, 0),
    },
    errors,
  };
}
