/**
 * The entropy threshold of top_entropy_quantile ("Beyond the 80/20 rule", Wang et al. 2025:
 * the high-entropy "forking" tokens carry most of the learning signal). A token keeps the
 * policy term when it counts and its entropy is at least the `q` quantile of the entropies of
 * every counted token of the optimizer step, interpolated linearly between order statistics
 * as torch.quantile does (TRL's get_high_entropy_mask). q = 1 - top_entropy_quantile.
 * Undefined when no token counts (then none keeps the term).
 */
export function entropyThreshold(entropy: Float32Array, mask: Float32Array, q: number): number | undefined {
  const counted: number[] = [];
  for (let i = 0; i < entropy.length; i++) if (mask[i] > 0) counted.push(entropy[i]);
  return counted.length === 0 ? undefined : quantile(counted, q);
}

/** Tokens that count and reach `threshold`: the denominator of the entropy bonus. */
export function tokensAtOrAbove(entropy: Float32Array, mask: Float32Array, threshold: number): number {
  let n = 0;
  for (let i = 0; i < entropy.length; i++) if (mask[i] > 0 && entropy[i] >= threshold) n++;
  return n;
}

/** torch.quantile's default ("linear"): between the order statistics around q (n - 1). */
export function quantile(values: number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}
