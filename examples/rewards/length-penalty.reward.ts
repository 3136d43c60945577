// Soft length penalty, in the batched form: 0 up to TARGET_TOKENS completion tokens, then
// smoothly down towards -1 as -x^2 / (1 + x^2) = 1 / (1 + x^2) - 1, with x the excess in
// units of SCALE_TOKENS (so -0.5 at TARGET + SCALE tokens). Smooth at the target, so a
// completion just over it is barely pushed, and bounded, so it cannot outweigh a correctness
// reward of weight 1 on its own.
// Batched because it also reports the share of the batch over the target, which needs every
// sample at once.
import { batched } from 'grpo-studio/reward';

const TARGET_TOKENS = 64;
const SCALE_TOKENS = 32;

export const lengthPenalty = batched((samples, ctx) => {
  const lengths = samples.map((s) => s.completionIds.length);
  ctx.metric('over_target_frac', lengths.filter((n) => n > TARGET_TOKENS).length / Math.max(1, lengths.length));
  return lengths.map((n) => {
    const x = Math.max(0, n - TARGET_TOKENS) / SCALE_TOKENS;
    return 1 / (1 + x * x) - 1;
  });
});
