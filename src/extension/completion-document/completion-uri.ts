// Where a completion document lives: `grpo-completion:/<title>.txt?run=…&iteration=…&group=…&member=…`.
// The path is only the tab's title; the query says which completion it is, so a restored tab
// can be read again from the run folder. Nothing here imports `vscode`: the caller builds the
// Uri from these parts (vscode.Uri.from keeps the query as given and round-trips it).
import { UserError } from '../../errors';
import type { CompletionRef } from '../dashboard/dashboard-channel';

export const COMPLETION_SCHEME = 'grpo-completion';

export interface CompletionUriParts {
  path: string;
  query: string;
}

/** The tab reads e.g. `iter 12 · group 3 · #5 (adv +1.23).txt`; `.txt` makes it plain text. */
export function completionUriParts(ref: CompletionRef, advantage: number | null): CompletionUriParts {
  const adv = advantage === null ? 'no adv' : `adv ${signed(advantage, 2)}`;
  const path = `/iter ${ref.iteration} · group ${ref.group} · #${ref.member} (${adv}).txt`;
  const query = new URLSearchParams({
    run: ref.runDir,
    iteration: String(ref.iteration),
    group: String(ref.group),
    member: String(ref.member),
  }).toString();
  return { path, query };
}

/** The completion a document's query names; a UserError for a query this extension did not write. */
export function parseCompletionQuery(query: string): CompletionRef {
  const params = new URLSearchParams(query);
  const runDir = params.get('run');
  if (!runDir) throw new UserError(`${COMPLETION_SCHEME} document "?${query}": no run folder (run=); reopen the completion from the run's dashboard`);
  const count = (name: 'iteration' | 'group' | 'member'): number => {
    const v = params.get(name);
    if (v === null || !/^\d+$/.test(v)) {
      throw new UserError(`${COMPLETION_SCHEME} document "?${query}": ${name}= is ${v === null ? 'missing' : `"${v}"`}, expected a whole number; reopen the completion from the run's dashboard`);
    }
    return Number(v);
  };
  return { runDir, iteration: count('iteration'), group: count('group'), member: count('member') };
}

/** `+1.23`, `-0.50`, `0.00`: the sign always shown, as advantages are read against zero. */
export function signed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return x > 0 && Number(s) !== 0 ? `+${s}` : s.replace(/^-(0\.?0*)$/, '$1');
}
