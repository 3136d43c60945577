// The per-token value a completion is coloured by, and the text shown on hover.
import type { RolloutCompletion } from '../src/protocol/dashboard-messages';
import { tokenKl } from '../src/run-folder/token-kl';

export type TokenColouring = 'none' | 'logprob' | 'kl';

export interface TokenView {
  text: string;
  /** 0 (no colour) to 1 (strongest): low probability, or large KL. */
  intensity: number;
  title: string;
}


/** KL at which a token gets the strongest colour; most tokens of a healthy run are far below. */
const KL_FULL = 1;
/** Log-probability at which a token gets the strongest colour (p = e^-5, about 0.7%). */
const LOGPROB_FULL = -5;

function fmt(x: number): string {
  return Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2);
}

/** Whether a colouring can be shown for this completion (KL needs the reference's log-probs). */
export function colouringAvailable(c: RolloutCompletion, mode: TokenColouring): boolean {
  return mode !== 'kl' || c.ref_logprobs !== null;
}

export function tokenViews(c: RolloutCompletion, mode: TokenColouring): TokenView[] {
  return c.tokens.map((text, i) => {
    const lp = c.logprobs[i];
    const ref = c.ref_logprobs?.[i] ?? null;
    const id = `token ${c.completion_ids[i]}`;
    if (mode === 'logprob' && lp !== null) {
      return { text, intensity: Math.min(1, lp / LOGPROB_FULL), title: `${id}: log-probability ${fmt(lp)} (p = ${fmt(Math.exp(lp))})` };
    }
    if (mode === 'kl' && lp !== null && ref !== null) {
      const kl = tokenKl(lp, ref);
      return { text, intensity: Math.min(1, kl / KL_FULL), title: `${id}: KL to reference ${fmt(kl)} (log-probability ${fmt(lp)}, reference ${fmt(ref)})` };
    }
    return { text, intensity: 0, title: lp === null ? `${id}: no log-probability` : `${id}: log-probability ${fmt(lp)}` };
  });
}
