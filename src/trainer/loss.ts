/**
 * The GRPO loss of one optimizer step, exactly as TRL's GRPOTrainer computes it (its
 * `_compute_loss`, with per_device_train_batch_size = minibatch_size, no gradient
 * accumulation, steps_per_generation = the minibatches of a rollout, num_iterations =
 * ppo_epochs). test/fixtures/trl/ holds TRL's own numbers for the cases the tests compare.
 *
 * Inputs for a minibatch of B completions padded to T tokens: the current policy's
 * log-probability logp[b,t] of each completion token and the entropy H[b,t] of its
 * distribution (both differentiable), the rollout policy's oldLogp[b,t] and, when there is a
 * KL term, the reference model's refLogp[b,t] (constants), one advantage A[b] per completion,
 * and mask[b,t] = 1 for tokens that count (0 for padding and for completions left out by
 * mask_truncated_completions). Masked tokens are replaced by 0 before any arithmetic, so
 * whatever padding holds (even -Infinity) adds nothing and gets a gradient of exactly 0.
 *
 * The importance weight w, per token or (GSPO, importance_sampling_level "sequence") one per
 * completion from the mean log-ratio of its tokens:
 *
 *   token     log w[b,t] = logp - oldLogp
 *   sequence  log w[b]   = sum_t mask (logp - oldLogp) / max(n_b, 1)
 *
 * The per-token policy term, per loss type:
 *
 *   grpo, bnpo, dr_grpo, dapo   pg = -min(w' A, clip(w, 1 - epsLow, 1 + epsHigh) A)
 *                               with w' = min(w, delta) when delta is set (INTELLECT-2's
 *                               two-sided clip), else w' = w (PPO; DAPO's separate bounds)
 *   cispo                       pg = -sg(min(w, epsHigh)) A logp   (MiniMax-M1: the weight is
 *                               clipped and not differentiated, so every token keeps a gradient)
 *
 * then, with top_entropy_quantile rho < 1, pg is kept only on tokens whose entropy is at least
 * the (1 - rho) quantile of the step's active entropies (Wang et al., "Beyond the 80/20
 * rule"), and the KL term is added: l = pg + beta k with k3 = exp(ref - logp) - (ref - logp) - 1
 * and k = w k3 under use_bias_correction_kl (DeepSeek-V3.2: with the importance weight, the
 * term's gradient is that of the reverse KL to the reference even off-policy; TRL's default),
 * else k = k3 (DeepSeekMath).
 *
 * With S = sum mask * l, n_b = sum_t mask[b,t], B the completions of the optimizer step, N the
 * active tokens of the whole rollout and k its optimizer steps per pass, the step's loss is:
 *
 *   grpo     (1/B) sum_b sum_t mask l / max(n_b, 1)     (DeepSeekMath)
 *   bnpo     S / max(sum_b n_b, 1)                      (the step's tokens)
 *   dr_grpo  S / (B * max_new_tokens)                   (Dr. GRPO)
 *   dapo     S / (max(N, 1) / k)                        (DAPO: tokens of the rollout, per step)
 *   cispo    as dapo
 *
 * minus entropy_coef x the mean entropy over the tokens the policy term acts on (TRL's bonus,
 * the same for every loss type). Each step is thus normalised as one of TRL's optimizer steps,
 * so max_grad_norm and grad_norm mean what they mean there.
 *
 * Every term is a sum over completions divided by a count of the whole step, so a step too
 * large for memory is computed in micro-batches whose losses and gradients add up to the
 * step's: grpoLoss takes the step's counts (StepCounts) and returns additive parts, and
 * combineLossParts turns the parts of a step's micro-batches into its statistics.
 *
 * Statistics, TRL's definitions for one step (the trainer averages them over the steps of an
 * iteration, as TRL averages its logged values):
 *   kl                masked mean of k, the KL term as in the loss (only with beta > 0)
 *   entropy           masked mean of H
 *   clip_ratio/*      low: w < 1 - epsLow with A < 0; high: w > 1 + epsHigh with A > 0;
 *                     *_mean over active tokens (over completions for sequence-level w),
 *                     low_min / high_max: the min / max over completions of their own means
 *   cispo_clip_ratio  masked mean of w > epsHigh with A > 0 (cispo only)
 */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../engine/stop-gradient';
import { assert } from '../errors';
import type { LossType } from './config';

export type ImportanceSamplingLevel = 'token' | 'sequence';

export interface GrpoLossInput {
  logp: tf.Tensor2D; // [B, T] current policy, differentiable
  entropy: tf.Tensor2D; // [B, T] current policy's entropy per position; differentiable for the bonus
  oldLogp: tf.Tensor2D; // [B, T] policy at rollout time, constant
  refLogp?: tf.Tensor2D; // [B, T] reference model, constant; absent when beta = 0
  advantages: tf.Tensor1D; // [B]
  mask: tf.Tensor2D; // [B, T] 1 for tokens that count, 0 otherwise
}

/** Counts over the whole optimizer step, which normalise each of its micro-batches. */
export interface StepCounts {
  sequences: number; // completions in the step
  tokens: number; // active tokens in the step
  /** Active tokens the policy term acts on (those at or above the entropy threshold); = tokens without one. */
  bonusTokens: number;
}

export interface GrpoLossOptions {
  lossType: LossType;
  importanceSamplingLevel: ImportanceSamplingLevel;
  epsilonLow: number;
  /** The upper clip bound; for cispo the cap on the weight itself (ScaleRL's epsilon_max). */
  epsilonHigh: number;
  /** Two-sided clip: caps the unclipped ratio too. Undefined: off. */
  delta?: number;
  /** kl_coef. Non-zero needs refLogp. */
  beta: number;
  /** Multiply the k3 term by the importance weight w (DeepSeek-V3.2; TRL's default). */
  klBiasCorrection: boolean;
  /** max_new_tokens: dr_grpo's constant length. */
  maxCompletionLength: number;
  /** dapo and cispo: active tokens in the whole rollout batch (N). */
  batchTokenCount?: number;
  /** dapo and cispo: optimizer steps in one pass over the rollout batch (k). */
  stepsPerBatch?: number;
  /** The step's counts; absent: this batch is the whole step. */
  step?: StepCounts;
  /** The policy term only where the entropy is at least this (top_entropy_quantile's threshold); absent: everywhere. */
  entropyThreshold?: number;
  /** Weight of the entropy bonus subtracted from the loss; 0: none. */
  entropyCoef: number;
}

/**
 * Additive parts of a step's statistics from one micro-batch, as scalars kept past any
 * tf.tidy: read them with readLossParts and combine a step's with combineLossParts.
 */
// A type, not an interface, so tf.tidy accepts it as a TensorContainer.
export type GrpoLossParts = {
  policyLoss: tf.Scalar; // this micro-batch's share of the loss without the bonus
  tokens: tf.Scalar; // active tokens
  sequences: tf.Scalar; // completions
  entropySum: tf.Scalar;
  bonusEntropySum: tf.Scalar; // over the tokens the policy term acts on
  bonusTokens: tf.Scalar;
  ratioSum: tf.Scalar; // over tokens, or completions for sequence-level w
  klSum?: tf.Scalar; // with beta > 0
  clipLowSum?: tf.Scalar; // clipped loss types; over tokens or completions as ratioSum
  clipHighSum?: tf.Scalar;
  clipLowMin?: tf.Scalar; // over completions with an active token; +Infinity when none
  clipHighMax?: tf.Scalar; // -Infinity when none
  cispoSum?: tf.Scalar; // cispo
};

export type GrpoLossPartValues = { [K in keyof GrpoLossParts]: number };

/** A step's statistics, TRL's definitions (see the top of this file). */
export interface GrpoLossStatValues {
  policyLoss: number; // "policy_loss"
  entropyMean: number; // "entropy"
  bonusEntropyMean: number; // the adaptive controller's input
  activeTokens: number;
  ratioMean: number; // mean importance weight: 1 on the first step of a rollout
  klMean?: number; // "kl"
  clipLowMean?: number; // "clip_ratio/low_mean"
  clipHighMean?: number;
  clipRegionMean?: number;
  clipLowMin?: number; // NaN when no completion has an active token
  clipHighMax?: number;
  cispoClipRatio?: number; // "cispo_clip_ratio"
}

/**
 * The GRPO loss of one micro-batch of an optimizer step (see the top of this file): summed
 * over a step's micro-batches it is the step's loss. Call it inside the function given to
 * tf.variableGrads; its intermediates are freed here, and the parts are tf.keep'd so they
 * outlive that function's scope.
 */
export function grpoLoss(input: GrpoLossInput, opts: GrpoLossOptions): { loss: tf.Scalar; parts: GrpoLossParts } {
  const { logp, entropy, oldLogp, refLogp, advantages, mask } = input;
  const [B, T] = logp.shape;
  for (const [t, name] of [[entropy, 'entropy'], [oldLogp, 'oldLogp'], [mask, 'mask']] as const) assertShape(t, [B, T], name);
  assertShape(advantages, [B], 'advantages');
  if (refLogp) assertShape(refLogp, [B, T], 'refLogp');
  assert(opts.beta >= 0, `beta must be >= 0, got ${opts.beta}`);
  assert(opts.beta === 0 || refLogp !== undefined, 'a non-zero beta needs the reference log-probabilities');
  assert(opts.epsilonLow > 0 && opts.epsilonHigh > 0, 'clipping bounds must be positive');
  assert(opts.step === undefined || opts.step.sequences >= B, `the step has ${opts.step?.sequences} completions, fewer than this micro-batch's ${B}`);

  return tf.tidy(() => {
    const active = tf.greater(mask, 0); // [B, T] bool
    const m = tf.cast(active, 'float32'); // [B, T]
    const zeros = tf.zerosLike(logp);
    const lp = tf.where(active, logp, zeros); // [B, T]
    const h = tf.where(active, entropy, zeros); // [B, T]
    const adv = tf.reshape(advantages, [B, 1]); // [B, 1]
    const seqTokens = tf.sum(m, 1, true); // [B, 1]
    const tokens = tf.sum(m) as tf.Scalar;
    const step = opts.step;

    const logRatio = tf.sub(lp, tf.where(active, oldLogp, zeros)); // [B, T]
    const perCompletion = opts.importanceSamplingLevel === 'sequence';
    const logW = perCompletion ? tf.div(tf.sum(logRatio, 1, true), tf.maximum(seqTokens, 1)) : logRatio; // [B, 1] or [B, T]
    const weight = tf.exp(logW);
    let w: tf.Tensor = weight;

    let pg: tf.Tensor; // [B, T] or [B, 1]
    if (opts.lossType === 'cispo') {
      pg = tf.neg(tf.mul(tf.mul(stopGradient(tf.minimum(w, opts.epsilonHigh)), adv), lp));
    } else {
      const clipped = tf.clipByValue(w, 1 - opts.epsilonLow, 1 + opts.epsilonHigh);
      if (opts.delta !== undefined) w = tf.minimum(w, opts.delta);
      // Ties (w inside the band) go to the first argument, whose gradient is the unclipped one.
      pg = tf.neg(tf.minimum(tf.mul(w, adv), tf.mul(clipped, adv)));
    }
    // The entropies only select tokens here: detached, so no gradient reaches the logical ops.
    const keep = opts.entropyThreshold !== undefined ? tf.cast(tf.logicalAnd(active, tf.greaterEqual(stopGradient(h), opts.entropyThreshold)), 'float32') : undefined;
    let perToken: tf.Tensor = keep ? tf.mul(pg, keep) : pg;
    let kl: tf.Tensor | undefined;
    if (opts.beta !== 0) {
      const toRef = tf.sub(tf.where(active, refLogp!, zeros), lp); // ref - logp
      kl = tf.sub(tf.sub(tf.exp(toRef), toRef), 1); // [B, T]
      if (opts.klBiasCorrection) kl = tf.mul(kl, weight); // differentiable: it changes the gradient even at w = 1
      perToken = tf.add(perToken, tf.mul(kl, opts.beta));
    }
    const masked = tf.mul(perToken, m); // [B, T]
    const policyLoss = normalise(masked, seqTokens, tokens, B, opts) as tf.Scalar;

    const bonusMask = keep ?? m;
    const bonusTokens = tf.sum(bonusMask) as tf.Scalar;
    const bonusEntropySum = tf.sum(tf.mul(h, bonusMask)) as tf.Scalar;
    let loss = policyLoss;
    if (opts.entropyCoef !== 0) {
      const denominator = step ? tf.scalar(Math.max(step.bonusTokens, 1)) : tf.maximum(bonusTokens, 1);
      loss = tf.sub(policyLoss, tf.mul(tf.div(bonusEntropySum, denominator), opts.entropyCoef)) as tf.Scalar;
    }

    // Token sums, or completion sums for a per-completion value (sequence-level w), as TRL counts them.
    const sumOf = (x: tf.Tensor) => (perCompletion && x.shape[1] === 1 ? tf.sum(x) : tf.sum(tf.mul(x, m))) as tf.Scalar;
    // A clone: the caller frees the parts, and without a bonus the loss is this very tensor.
    const parts: GrpoLossParts = {
      policyLoss: tf.clone(policyLoss),
      tokens,
      sequences: tf.scalar(B),
      entropySum: tf.sum(tf.mul(h, m)) as tf.Scalar,
      bonusEntropySum,
      bonusTokens,
      ratioSum: sumOf(weight),
    };
    if (kl) parts.klSum = sumOf(kl);
    if (opts.lossType === 'cispo') {
      parts.cispoSum = sumOf(tf.cast(tf.logicalAnd(tf.greater(w, opts.epsilonHigh), tf.greater(adv, 0)), 'float32'));
    } else {
      const low = tf.cast(tf.logicalAnd(tf.less(w, 1 - opts.epsilonLow), tf.less(adv, 0)), 'float32');
      const high = tf.cast(tf.logicalAnd(tf.greater(w, 1 + opts.epsilonHigh), tf.greater(adv, 0)), 'float32');
      parts.clipLowSum = sumOf(low);
      parts.clipHighSum = sumOf(high);
      parts.clipLowMin = extremeOfSequenceMeans(low, m, seqTokens, perCompletion, 'min');
      parts.clipHighMax = extremeOfSequenceMeans(high, m, seqTokens, perCompletion, 'max');
    }
    for (const t of Object.values(parts)) tf.keep(t);
    return { loss, parts };
  });
}

/**
 * The min or max over completions of each completion's own mean (TRL's clip_ratio/low_min
 * and high_max). Completions without an active token take no part; +-Infinity if none has one.
 */
function extremeOfSequenceMeans(x: tf.Tensor, m: tf.Tensor, seqTokens: tf.Tensor, perCompletion: boolean, which: 'min' | 'max'): tf.Scalar {
  const perSeq = perCompletion ? x : tf.div(tf.sum(tf.mul(x, m), 1, true), tf.maximum(seqTokens, 1)); // [B, 1]
  const has = perCompletion ? tf.cast(tf.onesLike(seqTokens), 'bool') : tf.greater(seqTokens, 0); // [B, 1]
  const fill = tf.fill(perSeq.shape, which === 'min' ? Infinity : -Infinity);
  return (which === 'min' ? tf.min(tf.where(has, perSeq, fill)) : tf.max(tf.where(has, perSeq, fill))) as tf.Scalar;
}

function normalise(masked: tf.Tensor, seqTokens: tf.Tensor, tokens: tf.Scalar, B: number, opts: GrpoLossOptions): tf.Tensor {
  const sequences = opts.step?.sequences ?? B;
  switch (opts.lossType) {
    case 'grpo':
      return tf.div(tf.sum(tf.div(tf.sum(masked, 1, true), tf.maximum(seqTokens, 1))), sequences);
    case 'bnpo':
      return tf.div(tf.sum(masked), opts.step ? Math.max(opts.step.tokens, 1) : tf.maximum(tokens, 1));
    case 'dr_grpo': {
      const T = masked.shape[1]!;
      assert(opts.maxCompletionLength >= T, `maxCompletionLength ${opts.maxCompletionLength} is shorter than the completions (${T} tokens)`);
      return tf.div(tf.sum(masked), sequences * opts.maxCompletionLength);
    }
    case 'dapo':
    case 'cispo': {
      const { batchTokenCount: n, stepsPerBatch: k } = opts;
      assert(n !== undefined && Number.isInteger(n) && n >= 0, `loss_type ${opts.lossType} needs batchTokenCount, the active tokens of the rollout batch`);
      assert(k !== undefined && Number.isInteger(k) && k >= 1, `loss_type ${opts.lossType} needs stepsPerBatch, the optimizer steps of one pass`);
      return tf.div(tf.sum(masked), Math.max(n, 1) / k);
    }
  }
}

function assertShape(t: tf.Tensor, shape: number[], name: string): void {
  assert(t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]), `${name} has shape [${t.shape}], expected [${shape}]`);
}

/** Reads one micro-batch's parts and frees their tensors. */
export async function readLossParts(parts: GrpoLossParts): Promise<Partial<GrpoLossPartValues>> {
  const keys = Object.keys(parts) as (keyof GrpoLossParts)[];
  const values = await Promise.all(keys.map((k) => parts[k]!.data()));
  tf.dispose(Object.values(parts) as tf.Tensor[]);
  return Object.fromEntries(keys.map((k, i) => [k, values[i][0]])) as Partial<GrpoLossPartValues>;
}

/**
 * A step's statistics from its micro-batches' parts. Means divide by the step's tokens, or
 * its completions for per-completion values (`perCompletion`), at least 1 (TRL's clamp).
 */
export function combineLossParts(parts: readonly Partial<GrpoLossPartValues>[], perCompletion: boolean): GrpoLossStatValues {
  const total = (k: keyof GrpoLossPartValues) => parts.reduce((s, p) => s + (p[k] ?? 0), 0);
  const has = (k: keyof GrpoLossPartValues) => parts.some((p) => p[k] !== undefined);
  const tokens = total('tokens');
  const weightCount = Math.max(perCompletion ? total('sequences') : tokens, 1);
  const stats: GrpoLossStatValues = {
    policyLoss: total('policyLoss'),
    entropyMean: total('entropySum') / Math.max(tokens, 1),
    bonusEntropyMean: total('bonusEntropySum') / Math.max(total('bonusTokens'), 1),
    activeTokens: tokens,
    ratioMean: total('ratioSum') / weightCount,
  };
  // The KL term is per token whatever the level of w.
  if (has('klSum')) stats.klMean = total('klSum') / Math.max(tokens, 1);
  if (has('cispoSum')) stats.cispoClipRatio = total('cispoSum') / weightCount;
  if (has('clipLowSum')) {
    stats.clipLowMean = total('clipLowSum') / weightCount;
    stats.clipHighMean = total('clipHighSum') / weightCount;
    stats.clipRegionMean = stats.clipLowMean + stats.clipHighMean; // low needs A < 0, high A > 0: never both
    const low = Math.min(...parts.map((p) => p.clipLowMin ?? Infinity));
    const high = Math.max(...parts.map((p) => p.clipHighMax ?? -Infinity));
    stats.clipLowMin = Number.isFinite(low) ? low : NaN;
    stats.clipHighMax = Number.isFinite(high) ? high : NaN;
  }
  return stats;
}
