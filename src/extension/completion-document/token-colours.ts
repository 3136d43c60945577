// Which tokens get which colour: a few levels of one highlight, so an editor needs only that
// many decoration types. The scales match the dashboard's rollout browser (webview/token-values.ts).
import type { CompletionDocument, CompletionToken } from './completion-text';

export type TokenColouring = 'logprob' | 'kl';

/** Highlight levels 1..LEVELS; level 0 is no highlight. */
export const LEVELS = 4;

/** Log-probability at which a token gets the strongest level (p = e^-5, about 0.7%). */
const LOGPROB_FULL = -5;
/** KL at which a token gets the strongest level; most tokens of a healthy run are far below. */
const KL_FULL = 1;

/**
 * 0 (none) to LEVELS: unlikely tokens under `logprob`, tokens far from the reference under
 * `kl`. Rounded, so a token needs a quarter of the scale before it is highlighted at all
 * (log-prob below -0.625, p below about 54%; KL above 0.125).
 */
export function tokenLevel(token: CompletionToken, colouring: TokenColouring): number {
  const value = colouring === 'logprob' ? token.logprob : token.kl;
  if (value === null) return 0;
  const intensity = Math.min(1, Math.max(0, colouring === 'logprob' ? value / LOGPROB_FULL : value / KL_FULL));
  return Math.round(intensity * LEVELS);
}

/** The [start, end) offsets of the tokens at each level 1..LEVELS (index 0 holds level 1). */
export function tokenLevels(doc: CompletionDocument, colouring: TokenColouring): [number, number][][] {
  const levels: [number, number][][] = Array.from({ length: LEVELS }, () => []);
  for (const t of doc.tokens) {
    const level = tokenLevel(t, colouring);
    if (level > 0 && t.end > t.start) levels[level - 1].push([t.start, t.end]);
  }
  return levels;
}
