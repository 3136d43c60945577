// The text of a completion document and where each token lies in it. A short header (which
// completion, its rewards and advantage, the prompt), then the completion as its tokens'
// texts, one after the other, so token i is exactly text.slice(tokens[i].start, tokens[i].end).
import { basename } from 'node:path';
import type { RolloutCompletion } from '../../protocol/dashboard-messages';
import { tokenKl } from '../../run-folder/token-kl';
import type { CompletionRef } from '../dashboard/dashboard-channel';
import { signed } from './completion-uri';

export const PROMPT_MARKER = '=== prompt ===';
export const COMPLETION_MARKER = '=== completion ===';

export interface CompletionToken {
  id: number;
  /** As decoded on its own (special tokens kept), before `visible`. */
  text: string;
  /** UTF-16 offsets into the document text, end exclusive. */
  start: number;
  end: number;
  /** Policy at rollout time; null where it was not finite. */
  logprob: number | null;
  /** Reference model; null when the run has no reference (kl_coef 0). */
  refLogprob: number | null;
  /** Per-token k3 KL to the reference; null without both log-probs. */
  kl: number | null;
}

export interface CompletionDocument {
  ref: CompletionRef;
  text: string;
  /** Offset of the first completion token: the line after COMPLETION_MARKER. */
  completionStart: number;
  tokens: CompletionToken[];
  advantage: number | null;
  /** Whether the run kept the reference's log-probs, i.e. KL can be shown. */
  hasReference: boolean;
}


/**
 * An editor splits lines at \r, U+0085, U+2028 and U+2029 too, and may rewrite them when it
 * normalises line ends, which would shift every offset after them. They are shown as one
 * visible character each, so offsets stay exact and only \n breaks a line.
 */
export function visible(text: string): string {
  return text.replace(/\r/g, '␍').replace(/[\u0085\u2028\u2029]/g, '␤');
}

export function completionDocument(ref: CompletionRef, c: RolloutCompletion): CompletionDocument {
  const rewards = Object.entries(c.rewards).map(([fn, v]) => `${fn} ${v === null ? 'failed' : short(v)}`);
  const header = [
    `iteration ${ref.iteration} · group ${ref.group} · member ${ref.member} · run ${basename(ref.runDir)}`,
    `reward ${c.reward === null ? 'none' : short(c.reward)}${rewards.length > 0 ? ` (${rewards.join(' · ')})` : ''}`,
    `advantage ${c.advantage === null ? 'none' : signed(c.advantage, 4)} · ${c.completion_ids.length} tokens · finished by ${c.finish_reason}`,
    PROMPT_MARKER,
    visible(c.prompt),
    COMPLETION_MARKER,
    '',
  ].join('\n');
  let text = header;
  const tokens = c.completion_ids.map((id, i): CompletionToken => {
    const start = text.length;
    text += visible(c.tokens[i]);
    const logprob = c.logprobs[i];
    const refLogprob = c.ref_logprobs?.[i] ?? null;
    const kl = logprob !== null && refLogprob !== null ? tokenKl(logprob, refLogprob) : null;
    return { id, text: c.tokens[i], start, end: text.length, logprob, refLogprob, kl };
  });
  return { ref, text, completionStart: header.length, tokens, advantage: c.advantage, hasReference: c.ref_logprobs !== null };
}

/** The token whose text covers `offset`; undefined in the header or past the end. */
export function tokenAt(doc: CompletionDocument, offset: number): number | undefined {
  let lo = 0;
  let hi = doc.tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = doc.tokens[mid];
    if (offset < t.start) hi = mid - 1;
    else if (offset >= t.end) lo = mid + 1;
    else return mid;
  }
  return undefined;
}

/** Rewards as written in the run (5 decimals at most), without trailing zeros. */
function short(x: number): string {
  return String(Number(x.toFixed(4)));
}
