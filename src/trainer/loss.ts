/**
 * The GRPO loss, exactly as computed here.
 *
 * Inputs for a minibatch of B completions padded to T tokens: the current policy's
 * log-probability logp[b,t] of each completion token (differentiable), the rollout policy's
 * oldLogp[b,t] and, when there is a KL term, the reference model's refLogp[b,t] (both
 * constants), one advantage A[b] per completion, and mask[b,t] = 1 for tokens that count
 * (0 for padding and for completions left out by mask_truncated_completions).
 *
 * Per token (PPO's clipped surrogate as used by DeepSeekMath, with DAPO's separate bounds):
 *
 *   r      = exp(logp - oldLogp)
 *   pg     = -min(r * A, clip(r, 1 - epsilonLow, 1 + epsilonHigh) * A)
 *   kl     = exp(refLogp - logp) - (refLogp - logp) - 1          (k3 estimator, >= 0)
 *   l[b,t] = pg + beta * kl                                       (kl term only with refLogp)
 *
 * The gradient of pg is -A * r * dlogp where the unclipped term is the minimum, and 0 where
 * the clipped term is (r < 1 - epsilonLow with A < 0, or r > 1 + epsilonHigh with A > 0).
 * Masked tokens are replaced by 0 before any arithmetic, so whatever padding holds (even
 * -Infinity) adds nothing to the loss and gets a gradient of exactly 0.
 *
 * With n_b = sum_t mask[b,t] and S = sum_{b,t} mask[b,t] * l[b,t], the loss is, per lossType:
 *
 *   grpo     (1/B') * sum_b [ sum_t mask[b,t] l[b,t] / max(n_b, 1) ]      (DeepSeekMath)
 *   bnpo     S / max(sum_b n_b, 1)                                        (this minibatch's tokens)
 *   dr_grpo  S / (B' * maxCompletionLength)                               (Dr. GRPO)
 *   dapo     S / max(batchTokenCount, 1)                                  (DAPO)
 *
 * where B' = batchSequenceCount when given, else B. batchTokenCount is the number of active
 * tokens (mask = 1) over every minibatch of the rollout batch, and batchSequenceCount the
 * number of its completions. With those, the losses of a rollout batch's minibatches add up
 * to the loss of the whole batch computed at once: dapo is then every token of the batch
 * weighted equally, however the batch is cut. Each minibatch's own loss is correspondingly
 * about 1/(number of minibatches) of a per-minibatch mean, which Adam's normalisation
 * absorbs but max_grad_norm sees.
 *
 * Statistics (TRL's metric definitions), each a mean over this minibatch's active tokens:
 *   klMean             mean kl                          -> "kl"
 *   ratioMean          mean r
 *   clipLowFraction    r < 1 - epsilonLow  and A < 0    -> "clip_ratio/low_mean"
 *   clipHighFraction   r > 1 + epsilonHigh and A > 0    -> "clip_ratio/high_mean"
 *   clipRegionFraction either of the two               -> "clip_ratio/region_mean"
 *   activeTokens       sum of mask, to weight minibatch means into an iteration's mean
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert } from '../errors';
import type { LossType } from './config';

export interface GrpoLossInput {
  logp: tf.Tensor2D; // [B, T] current policy, differentiable
  oldLogp: tf.Tensor2D; // [B, T] policy at rollout time, constant
  refLogp?: tf.Tensor2D; // [B, T] reference model, constant; absent when beta = 0
  advantages: tf.Tensor1D; // [B]
  mask: tf.Tensor2D; // [B, T] 1 for tokens that count, 0 otherwise
}

export interface GrpoLossOptions {
  lossType: LossType;
  epsilonLow: number;
  epsilonHigh: number;
  /** kl_coef. Non-zero needs refLogp. */
  beta: number;
  /** max_new_tokens: dr_grpo's constant length. */
  maxCompletionLength: number;
  /** dapo (required): active tokens in the whole rollout batch. */
  batchTokenCount?: number;
  /** grpo and dr_grpo: completions in the whole rollout batch; default this minibatch's B. */
  batchSequenceCount?: number;
}

/** Scalars computed with the loss; kept past any tf.tidy, so read them with readLossStats. */
// A type, not an interface, so tf.tidy accepts it as a TensorContainer.
export type GrpoLossStats = {
  klMean: tf.Scalar;
  ratioMean: tf.Scalar;
  clipLowFraction: tf.Scalar;
  clipHighFraction: tf.Scalar;
  clipRegionFraction: tf.Scalar;
  activeTokens: tf.Scalar;
};

export type GrpoLossStatValues = { [K in keyof GrpoLossStats]: number };

/**
 * The GRPO loss of one minibatch (see the top of this file). Call it inside the function
 * given to tf.variableGrads / optimizer.minimize; its intermediates are freed here, and the
 * stats are tf.keep'd so they outlive that function's scope.
 */
export function grpoLoss(input: GrpoLossInput, opts: GrpoLossOptions): { loss: tf.Scalar; stats: GrpoLossStats } {
  const { logp, oldLogp, refLogp, advantages, mask } = input;
  const [B, T] = logp.shape;
  assertShape(oldLogp, [B, T], 'oldLogp');
  assertShape(mask, [B, T], 'mask');
  assertShape(advantages, [B], 'advantages');
  if (refLogp) assertShape(refLogp, [B, T], 'refLogp');
  assert(opts.beta >= 0, `beta must be >= 0, got ${opts.beta}`);
  assert(opts.beta === 0 || refLogp !== undefined, 'a non-zero beta needs the reference log-probabilities');
  assert(opts.epsilonLow > 0 && opts.epsilonHigh > 0, 'clipping bounds must be positive');
  const sequences = opts.batchSequenceCount ?? B;
  assert(sequences >= B, `batchSequenceCount ${sequences} is smaller than the minibatch (${B})`);

  return tf.tidy(() => {
    const active = tf.greater(mask, 0); // [B, T] bool
    const m = tf.cast(active, 'float32'); // [B, T]
    const zeros = tf.zerosLike(logp);
    const lp = tf.where(active, logp, zeros); // [B, T]
    const old = tf.where(active, oldLogp, zeros);
    const adv = tf.reshape(advantages, [B, 1]); // [B, 1]

    const ratio = tf.exp(tf.sub(lp, old)); // [B, T]
    const clipped = tf.clipByValue(ratio, 1 - opts.epsilonLow, 1 + opts.epsilonHigh);
    // Ties (r inside the band) go to the first argument, whose gradient is the unclipped one.
    const pg = tf.neg(tf.minimum(tf.mul(ratio, adv), tf.mul(clipped, adv))); // [B, T]

    let perToken: tf.Tensor = pg;
    let kl: tf.Tensor | undefined;
    if (refLogp) {
      const logRatioToRef = tf.sub(tf.where(active, refLogp, zeros), lp); // ref - logp
      kl = tf.sub(tf.sub(tf.exp(logRatioToRef), logRatioToRef), 1); // [B, T]
      if (opts.beta !== 0) perToken = tf.add(pg, tf.mul(kl, opts.beta));
    }
    const masked = tf.mul(perToken, m); // [B, T]
    const loss = normalise(masked, m, opts, sequences) as tf.Scalar;

    const tokens = tf.sum(m);
    const perActive = tf.maximum(tokens, 1);
    const tokenMean = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, m)), perActive) as tf.Scalar;
    const low = tf.logicalAnd(tf.less(ratio, 1 - opts.epsilonLow), tf.less(adv, 0));
    const high = tf.logicalAnd(tf.greater(ratio, 1 + opts.epsilonHigh), tf.greater(adv, 0));
    const clipLowFraction = tokenMean(tf.cast(low, 'float32'));
    const clipHighFraction = tokenMean(tf.cast(high, 'float32'));
    const stats: GrpoLossStats = {
      klMean: kl ? tokenMean(kl) : tf.scalar(0),
      ratioMean: tokenMean(ratio),
      clipLowFraction,
      clipHighFraction,
      // low needs A < 0 and high A > 0: never both, so the fractions add.
      clipRegionFraction: tf.add(clipLowFraction, clipHighFraction),
      activeTokens: tokens as tf.Scalar,
    };
    for (const s of Object.values(stats)) tf.keep(s);
    return { loss, stats };
  });
}

function normalise(masked: tf.Tensor, m: tf.Tensor, opts: GrpoLossOptions, sequences: number): tf.Tensor {
  switch (opts.lossType) {
    case 'grpo': {
      const perSequence = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(m, 1), 1)); // [B]
      return tf.div(tf.sum(perSequence), sequences);
    }
    case 'bnpo':
      return tf.div(tf.sum(masked), tf.maximum(tf.sum(m), 1));
    case 'dr_grpo': {
      const T = masked.shape[1]!;
      assert(opts.maxCompletionLength >= T, `maxCompletionLength ${opts.maxCompletionLength} is shorter than the completions (${T} tokens)`);
      return tf.div(tf.sum(masked), sequences * opts.maxCompletionLength);
    }
    case 'dapo': {
      const count = opts.batchTokenCount;
      assert(count !== undefined && Number.isInteger(count) && count >= 0, 'loss_type dapo needs batchTokenCount, the active tokens of the rollout batch');
      return tf.div(tf.sum(masked), Math.max(count, 1));
    }
  }
}

function assertShape(t: tf.Tensor, shape: number[], name: string): void {
  assert(t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]), `${name} has shape [${t.shape}], expected [${shape}]`);
}

/** Reads the statistics of a step and frees their tensors. */
export async function readLossStats(stats: GrpoLossStats): Promise<GrpoLossStatValues> {
  const keys = Object.keys(stats) as (keyof GrpoLossStats)[];
  const values = await Promise.all(keys.map((k) => stats[k].data()));
  tf.dispose(Object.values(stats));
  return Object.fromEntries(keys.map((k, i) => [k, values[i][0]])) as GrpoLossStatValues;
}
