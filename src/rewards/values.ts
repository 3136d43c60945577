// Turns whatever a reward function returned into numbers, and says what was wrong with it.
// Runs inside the worker: a returned value need not survive structured cloning.

/** Worth quoting in a message, without running user code (no toString of objects). */
function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'undefined (a missing return?)';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${v === null ? 'null' : typeof v}`;
}

export interface Checked {
  values: number[];
  /** Set when some value was not usable; the affected samples are in `bad`. */
  problem?: string;
  bad: number[];
}

/** A finite number is kept; null means "does not apply" (NaN, no problem); anything else is NaN and a problem. */
function one(v: unknown): { value: number; ok: boolean } {
  if (typeof v === 'number' && Number.isFinite(v)) return { value: v, ok: true };
  return { value: NaN, ok: v === null };
}

export function checkSampleValue(out: unknown): Checked {
  const { value, ok } = one(out);
  if (ok) return { values: [value], bad: [] };
  return { values: [value], bad: [0], problem: `returned ${describe(out)}, expected a finite number or null` };
}

export function checkBatchValues(out: unknown, n: number): Checked {
  const nan = () => Array.from({ length: n }, () => NaN);
  const all = Array.from({ length: n }, (_, i) => i);
  const isList = Array.isArray(out) || (ArrayBuffer.isView(out) && !(out instanceof DataView));
  if (!isList) return { values: nan(), bad: all, problem: `returned ${describe(out)}, expected an array of ${n} numbers` };
  const list = out as ArrayLike<unknown>;
  if (list.length !== n) return { values: nan(), bad: all, problem: `returned ${list.length} values for ${n} samples` };
  const values: number[] = [];
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    const { value, ok } = one(list[i]);
    values.push(value);
    if (!ok) bad.push(i);
  }
  if (bad.length === 0) return { values, bad };
  return { values, bad, problem: `returned ${describe(list[bad[0]])} at index ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}, expected finite numbers or null` };
}
