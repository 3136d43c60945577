// Group-relative advantages (DeepSeekMath's outcome supervision): each completion is scored
// against the other completions of the same prompt.
//
//   A_i = (R_i - mean(R_group)) / (s + eps)
//
// where s is, per `scale`:
//   group  the standard deviation of the group's rewards (DeepSeekMath, TRL's default)
//   batch  the standard deviation of every reward in the batch (mean still per group)
//   none   no division at all, A_i = R_i - mean (Dr. GRPO)
//
// Standard deviations are unbiased (divide by n - 1), the convention of torch.std and so of
// TRL: rewards {0, 1} give A = -+1/sqrt(2), not -+1.
//
// A non-finite reward (every reward function failed on that sample) takes no part: the sample
// gets advantage 0 and is left out of its group's mean and std and of the batch std. A group
// whose finite rewards do not vary (or has fewer than two) carries no learning signal: its
// advantages are exactly 0 and it is counted in zeroStdGroups. zeroStdFraction is TRL's
// frac_reward_zero_std: the share of completions whose divisor's spread is zero, that is the
// share of flat groups under group (and none) scaling, and 1 or 0 under batch scaling, where
// every completion shares the batch's spread.
//
// normalizeThenSum is GDPO's aggregation of several reward functions (TRL's
// multi_objective_aggregation "normalize_then_sum"): each function's values are normalised
// within each group, (v - group mean) / (group std + eps), summed with the functions' weights,
// and the sums normalised over the whole batch; scale_rewards takes no part.
import { assert } from '../errors';
import type { RewardScaling, TrainingConfig } from './config';

export interface Advantages {
  /** [numGroups * groupSize], in the order of the rewards. */
  advantages: Float64Array;
  /** [numGroups] unbiased std of each group's finite rewards; 0 where fewer than two. */
  groupStd: Float64Array;
  /** Groups that give no learning signal: zero spread, or fewer than two finite rewards. */
  zeroStdGroups: number;
  /** TRL's frac_reward_zero_std (see above). */
  zeroStdFraction: number;
}

/** Below this a spread is rounding noise (torch.isclose's absolute tolerance, as TRL tests it). */
const ZERO_STD = 1e-8;

/**
 * `rewards` holds numGroups groups of `groupSize` consecutive completions of one prompt.
 * `eps` keeps the division finite for nearly uniform groups (TRL uses 1e-4).
 */
export function computeAdvantages(rewards: Float64Array, groupSize: number, scale: RewardScaling, eps = 1e-4): Advantages {
  assert(Number.isInteger(groupSize) && groupSize >= 1, `group size must be a positive integer, got ${groupSize}`);
  assert(rewards.length % groupSize === 0, `${rewards.length} rewards do not split into groups of ${groupSize}`);
  const numGroups = rewards.length / groupSize;
  const advantages = new Float64Array(rewards.length);
  const groupStd = new Float64Array(numGroups);
  const groupMean = new Float64Array(numGroups);
  const flat = new Array<boolean>(numGroups).fill(true);

  for (let g = 0; g < numGroups; g++) {
    const { mean, std, count } = meanAndStd(rewards.subarray(g * groupSize, (g + 1) * groupSize));
    groupMean[g] = mean;
    groupStd[g] = std;
    flat[g] = count < 2 || std <= ZERO_STD;
  }
  const batchStd = scale === 'batch' ? meanAndStd(rewards).std : 0;
  const zeroStdGroups = flat.filter(Boolean).length;

  for (let g = 0; g < numGroups; g++) {
    if (flat[g]) continue;
    const divisor = scale === 'group' ? groupStd[g] + eps : scale === 'batch' ? batchStd + eps : 1;
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) {
      if (Number.isFinite(rewards[i])) advantages[i] = (rewards[i] - groupMean[g]) / divisor;
    }
  }
  const zeroStdFraction = scale === 'batch' ? (batchStd <= ZERO_STD ? 1 : 0) : zeroStdGroups / numGroups;
  return { advantages, groupStd, zeroStdGroups, zeroStdFraction };
}

/** GDPO's aggregation (see above). `functions` hold one value per completion, NaN where missing. */
export function normalizeThenSum(functions: readonly { values: Float64Array; weight: number }[], groupSize: number, eps = 1e-4): Advantages {
  assert(functions.length > 0, 'normalize_then_sum needs at least one reward function');
  const n = functions[0].values.length;
  assert(n % groupSize === 0, `${n} rewards do not split into groups of ${groupSize}`);
  const numGroups = n / groupSize;
  const summed = new Float64Array(n).fill(NaN); // [n]: NaN where no function gave a value
  for (const f of functions) {
    for (let g = 0; g < numGroups; g++) {
      const group = f.values.subarray(g * groupSize, (g + 1) * groupSize);
      const { mean, std, count } = meanAndStd(group);
      for (let i = 0; i < groupSize; i++) {
        const v = group[i];
        if (Number.isNaN(v)) continue;
        const k = g * groupSize + i;
        // A group with fewer than two values has no spread to normalise by: it adds 0 (TRL: NaN, then nansum).
        const z = count < 2 ? 0 : (v - mean) / (std + eps);
        summed[k] = (Number.isNaN(summed[k]) ? 0 : summed[k]) + f.weight * z;
      }
    }
  }
  const batch = meanAndStd(summed);
  const advantages = new Float64Array(n);
  for (let k = 0; k < n; k++) if (Number.isFinite(summed[k])) advantages[k] = (summed[k] - batch.mean) / (batch.std + eps);
  const groupStd = new Float64Array(numGroups);
  let zeroStdGroups = 0;
  for (let g = 0; g < numGroups; g++) {
    const { std, count } = meanAndStd(summed.subarray(g * groupSize, (g + 1) * groupSize));
    groupStd[g] = std;
    if (count < 2 || std <= ZERO_STD) zeroStdGroups++;
  }
  return { advantages, groupStd, zeroStdGroups, zeroStdFraction: batch.std <= ZERO_STD ? 1 : 0 };
}

/** Mean and unbiased std of the finite values; std 0 when fewer than two. */
function meanAndStd(values: Float64Array): { mean: number; std: number; count: number } {
  let count = 0;
  let sum = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    count++;
    sum += v;
  }
  if (count === 0) return { mean: 0, std: 0, count };
  const mean = sum / count;
  let squares = 0;
  for (const v of values) if (Number.isFinite(v)) squares += (v - mean) ** 2;
  return { mean, std: count < 2 ? 0 : Math.sqrt(squares / (count - 1)), count };
}

/** An iteration's advantages as the config says to form them: the one rule training and previews share. */
export function rolloutAdvantages(
  scores: { functions: readonly { values: Float64Array; weight: number }[]; total: Float64Array },
  config: Pick<TrainingConfig, 'group_size' | 'scale_rewards' | 'multi_objective_aggregation'>,
): Advantages {
  return config.multi_objective_aggregation === 'normalize_then_sum'
    ? normalizeThenSum(scores.functions, config.group_size)
    : computeAdvantages(scores.total, config.group_size, config.scale_rewards);
}
