import type { RewardScores } from '../rewards/scores';
import type { Advantages } from './advantages';
import type { IterationMetrics } from './events';
import type { UpdateSummary } from './policy-update';
import type { Rollout } from './rollout';

/** What the trainer knows of an iteration besides its stages' outputs. */
export interface IterationContext {
  iteration: number;
  epoch: number;
  learningRate: number;
  klCoef: number; // as used by this iteration's updates
  entropyBonus: boolean; // whether the loss has an entropy bonus (TRL then logs policy_loss and entropy_coef)
  clippedLoss: boolean; // a loss type with PPO's clip (every one but cispo)
  numTokens: number; // prompt and completion tokens of every completion so far, this iteration's included
  rewardSeconds: number;
  iterationSeconds: number; // rollout, rewards and updates
}

/**
 * The metrics.jsonl line of one iteration. Where a name is TRL's, so is its definition (its
 * GRPOTrainer logs once per optimizer step; one iteration here is one generation batch, so
 * the per-step values are averaged over the iteration's steps as TRL averages them between
 * log lines).
 */
export function iterationMetrics(ctx: IterationContext, rollout: Rollout, scores: RewardScores, advantages: Advantages, update: UpdateSummary): IterationMetrics {
  const lengths = rollout.samples.map((s) => s.completionIds.length);
  const generated = lengths.reduce((a, b) => a + b, 0);
  // TRL: a completion is truncated when it did not end with EOS; stop strings end one here too.
  const terminated = rollout.samples.filter((s) => s.finishReason !== 'length').map((s) => s.completionIds.length);
  const u = update.means;
  const m: IterationMetrics = {
    iteration: ctx.iteration,
    epoch: ctx.epoch,
    reward: nanMean(scores.total),
    reward_std: nanStd(scores.total),
  };
  for (const f of scores.functions) {
    m[`rewards/${f.name}/mean`] = nanMean(f.values);
    m[`rewards/${f.name}/std`] = nanStd(f.values);
  }
  // ctx.metric values, averaged over the iteration's calls (TRL's log_metric).
  for (const [name, values] of Object.entries(scores.metrics)) m[name] = nanMean(values);
  if (ctx.klCoef > 0) m.kl = u.klMean ?? NaN;
  Object.assign(m, {
    loss: update.loss,
    entropy: u.entropyMean ?? NaN,
  });
  if (ctx.entropyBonus) Object.assign(m, { policy_loss: u.policyLoss ?? NaN, entropy_coef: update.entropyCoef });
  if (ctx.clippedLoss) {
    Object.assign(m, {
      'clip_ratio/low_mean': u.clipLowMean ?? NaN,
      'clip_ratio/low_min': u.clipLowMin ?? NaN,
      'clip_ratio/high_mean': u.clipHighMean ?? NaN,
      'clip_ratio/high_max': u.clipHighMax ?? NaN,
      'clip_ratio/region_mean': u.clipRegionMean ?? NaN,
    });
  } else {
    m.cispo_clip_ratio = u.cispoClipRatio ?? NaN;
  }
  Object.assign(m, {
    ratio_mean: u.ratioMean ?? NaN, // exactly 1 with one step per rollout; the ratio is real after that
    num_tokens: ctx.numTokens,
    'completions/mean_length': generated / lengths.length,
    'completions/min_length': Math.min(...lengths),
    'completions/max_length': Math.max(...lengths),
    'completions/clipped_ratio': (lengths.length - terminated.length) / lengths.length,
    'completions/mean_terminated_length': terminated.length ? terminated.reduce((a, b) => a + b, 0) / terminated.length : 0,
    'completions/min_terminated_length': terminated.length ? Math.min(...terminated) : 0,
    'completions/max_terminated_length': terminated.length ? Math.max(...terminated) : 0,
    frac_reward_zero_std: advantages.zeroStdFraction,
    learning_rate: ctx.learningRate,
    grad_norm: update.gradNorm,
    optimizer_steps: update.steps,
    skipped_updates: update.skipped,
    step_time: ctx.iterationSeconds / Math.max(update.steps + update.skipped, 1),
    reward_failures: scores.functions.reduce((n, f) => n + f.errors.reduce((k, e) => k + e.samples.length, 0), 0),
    'time/generate': rollout.generateSeconds,
    'time/score_logprobs': rollout.scoreSeconds,
    'time/rewards': ctx.rewardSeconds,
    'time/update': update.seconds,
    'tokens_per_second/generate': generated / rollout.generateSeconds,
    reward_versions: Object.fromEntries(scores.functions.map((f) => [f.file, f.version])),
  });
  return m;
}

/** Mean of the finite values; NaN when there are none. */
export function nanMean(xs: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) (s += xs[i]), n++;
  return n ? s / n : NaN;
}

/** Unbiased std of the finite values (TRL's nanstd); NaN when fewer than two. */
export function nanStd(xs: ArrayLike<number>): number {
  const mu = nanMean(xs);
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) (s += (xs[i] - mu) ** 2), n++;
  return n > 1 ? Math.sqrt(s / (n - 1)) : NaN;
}
