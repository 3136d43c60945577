import { assert } from '../errors';

/**
 * mask_truncated_completions (DAPO's overlong filtering): a copy of the completion mask
 * with every token of the completions that hit max_new_tokens without ending set to 0, so
 * the loss neither rewards nor punishes an answer for being cut off. Their KL term goes too,
 * as in TRL. mask: [rows * completionLength] row-major; truncated: one flag per row.
 */
export function maskTruncatedCompletions(mask: Float32Array, completionLength: number, truncated: readonly boolean[]): Float32Array {
  assert(mask.length === truncated.length * completionLength, `mask of ${mask.length} for ${truncated.length} rows of ${completionLength}`);
  const out = mask.slice();
  truncated.forEach((cut, row) => {
    if (cut) out.fill(0, row * completionLength, (row + 1) * completionLength);
  });
  return out;
}
