import type { Rng } from './rng';

/** How the next token is drawn from the logits, as in transformers' generate. */
export interface SamplingOptions {
  temperature: number; // 0 means greedy (argmax)
  topK: number; // 0 disables
  topP: number; // 1 disables
  minP: number; // 0 disables; keep tokens with p >= minP * max p
  repetitionPenalty: number; // 1 disables; CTRL-style, over prompt and completion tokens
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

/**
 * Tokens whose logit is this far below the maximum (after temperature) have relative
 * probability under e^-40 ~ 4e-18: below float32 resolution of any cumulative sum, so
 * leaving them out of the sort changes no outcome and saves sorting the whole vocabulary.
 */
const NEGLIGIBLE_LOGIT_GAP = 40;

/**
 * Draws one token from a row of logits. `seen` holds the token ids the repetition penalty
 * applies to. Warpers apply in transformers' order: penalty, temperature, top-k, top-p, min-p.
 */
export function sampleToken(logits: Float32Array, seen: Iterable<number>, opts: SamplingOptions, rng: Rng): number {
  let row = logits;
  if (opts.repetitionPenalty !== 1) {
    row = Float32Array.from(logits);
    for (const id of new Set(seen)) {
      const l = row[id];
      row[id] = l > 0 ? l / opts.repetitionPenalty : l * opts.repetitionPenalty;
    }
  }
  if (opts.temperature === 0) return argmax(row);

  const invT = 1 / opts.temperature;
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const floor = max - NEGLIGIBLE_LOGIT_GAP * opts.temperature;
  const candidates: number[] = [];
  for (let i = 0; i < row.length; i++) if (row[i] >= floor) candidates.push(i);
  candidates.sort((a, b) => row[b] - row[a] || a - b);

  let n = candidates.length;
  if (opts.topK > 0) n = Math.min(n, opts.topK);
  const probs = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((row[candidates[i]] - max) * invT);
    total += probs[i];
  }
  if (opts.topP < 1) {
    // Keep the smallest prefix whose mass reaches top_p (at least one token).
    let cum = 0;
    let keep = 0;
    while (keep < n) {
      cum += probs[keep] / total;
      keep++;
      if (cum >= opts.topP) break;
    }
    n = keep;
  }
  if (opts.minP > 0) {
    const threshold = opts.minP * probs[0];
    let keep = 1;
    while (keep < n && probs[keep] >= threshold) keep++;
    n = keep;
  }
  let mass = 0;
  for (let i = 0; i < n; i++) mass += probs[i];
  let u = rng.next() * mass;
  for (let i = 0; i < n; i++) {
    u -= probs[i];
    if (u < 0) return candidates[i];
  }
  return candidates[n - 1];
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
