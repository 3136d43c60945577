// What the hover over one token of a completion document says, as plain data; the editor side
// renders it with the token's text escaped (it is model output).
import type { CompletionDocument } from './completion-text';
import { signed } from './completion-uri';

export interface TokenHover {
  /** The token's text as a JSON string literal, so whitespace and control characters show. */
  quoted: string;
  rows: { label: string; value: string }[];
}

export function tokenHover(doc: CompletionDocument, index: number): TokenHover {
  const t = doc.tokens[index];
  const rows = [
    { label: 'token', value: `${index + 1} of ${doc.tokens.length}, id ${t.id}` },
    { label: 'log-prob', value: t.logprob === null ? 'not finite' : `${number(t.logprob)} (p = ${percent(Math.exp(t.logprob))})` },
  ];
  if (doc.hasReference) {
    rows.push({ label: 'reference log-prob', value: t.refLogprob === null ? 'not finite' : number(t.refLogprob) });
    rows.push({ label: 'KL (k3)', value: t.kl === null ? 'unknown' : number(t.kl) });
  }
  rows.push({ label: 'advantage', value: doc.advantage === null ? 'none' : signed(doc.advantage, 4) });
  return { quoted: JSON.stringify(t.text), rows };
}

function number(x: number): string {
  return Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(4) : x.toExponential(2);
}

function percent(p: number): string {
  return p >= 0.001 ? `${(p * 100).toFixed(2)}%` : `${(p * 100).toExponential(2)}%`;
}
