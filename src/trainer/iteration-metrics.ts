import type { RewardScores } from '../rewards/scores';
import type { Advantages } from './advantages';
import type { IterationMetrics } from './events';
import type { UpdateSummary } from './policy-update';
import type { Rollout } from './rollout';

/** The metrics.jsonl line of one iteration, from what its stages produced. */
export function iterationMetrics(
  iteration: number,
  epoch: number,
  learningRate: number,
  rollout: Rollout,
  scores: RewardScores,
  advantages: Advantages,
  update: UpdateSummary,
  rewardSeconds: number,
): IterationMetrics {
  const lengths = rollout.samples.map((s) => s.completionIds.length);
  const generated = lengths.reduce((a, b) => a + b, 0);
  const m: IterationMetrics = {
    iteration,
    epoch,
    reward: nanMean(scores.total),
    reward_std: mean(advantages.groupStd),
  };
  for (const f of scores.functions) {
    m[`rewards/${f.name}/mean`] = nanMean(f.values);
    m[`rewards/${f.name}/std`] = nanStd(f.values);
  }
  Object.assign(m, {
    kl: update.kl,
    loss: update.loss,
    'clip_ratio/low_mean': update.clipLow,
    'clip_ratio/high_mean': update.clipHigh,
    'clip_ratio/region_mean': update.clipRegion,
    ratio_mean: update.ratioMean, // exactly 1 with one step per rollout; the ratio is real after that
    entropy: maskedMean(rollout.entropy, rollout.batch.completionMask),
    'completions/mean_length': generated / lengths.length,
    'completions/min_length': Math.min(...lengths),
    'completions/max_length': Math.max(...lengths),
    'completions/clipped_ratio': rollout.samples.filter((s) => s.finishReason === 'length').length / lengths.length,
    frac_reward_zero_std: advantages.zeroStdGroups / advantages.groupStd.length,
    learning_rate: learningRate,
    grad_norm: update.gradNorm,
    optimizer_steps: update.steps,
    skipped_updates: update.skipped,
    reward_failures: scores.functions.reduce((n, f) => n + f.errors.reduce((k, e) => k + e.samples.length, 0), 0),
    'time/generate': rollout.generateSeconds,
    'time/score_logprobs': rollout.scoreSeconds,
    'time/rewards': rewardSeconds,
    'time/update': update.seconds,
    'tokens_per_second/generate': generated / rollout.generateSeconds,
    reward_versions: Object.fromEntries(scores.functions.map((f) => [f.file, f.version])),
  });
  return m;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Mean of the finite values; NaN when there are none. */
export function nanMean(xs: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) (s += xs[i]), n++;
  return n ? s / n : NaN;
}

function nanStd(xs: ArrayLike<number>): number {
  const mu = nanMean(xs);
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) (s += (xs[i] - mu) ** 2), n++;
  return n > 1 ? Math.sqrt(s / (n - 1)) : 0;
}

function maskedMean(values: Float32Array, mask: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) if (mask[i] > 0) (s += values[i]), n++;
  return n ? s / n : 0;
}
