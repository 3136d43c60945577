// What scoring one iteration's completions produces, and how function values combine.

/** Why a reward function has no value for some samples of an iteration. */
export interface RewardCallError {
  /**
   * threw: the function threw or rejected; invalid: it returned something other than a finite
   * number or null (or an array of the wrong length); timeout: a call overran the time limit;
   * crashed: its worker died; skipped: not called after repeated timeouts this iteration.
   */
  kind: 'threw' | 'invalid' | 'timeout' | 'crashed' | 'skipped';
  message: string;
  /** Stack frames mapped to the user's .ts files, when there are any. */
  stack?: string;
  /** Indices into the scored inputs; identical errors of one function are merged. */
  samples: number[];
}

export interface FunctionScores {
  name: string;
  /** Workspace-relative path of the reward file. */
  file: string;
  /** Content hash of the version of the file (and its imports) that produced these values. */
  version: string;
  weight: number;
  /** Raw values, one per input; NaN where the function failed or returned null. */
  values: Float64Array; // [inputs]
  errors: RewardCallError[];
}

export interface RewardScores {
  functions: FunctionScores[];
  /** Weighted sum over functions ignoring NaN values; NaN where no function gave a value. */
  total: Float64Array; // [inputs]
  /** Lines from `ctx.log` and console output, in call order per function. */
  logs: { fn: string; line: string }[];
  /** `ctx.metric` values keyed `<function>/<name>`. */
  metrics: Record<string, number[]>;
}

/**
 * Sum of weight x value over the functions that produced a value for the sample, as TRL's
 * nansum: a failed function counts as 0 next to others, and a sample that no function
 * scored stays NaN so the trainer can give it advantage 0 instead of a made-up reward.
 */
export function weightedTotal(functions: readonly { values: Float64Array; weight: number }[], n: number): Float64Array {
  const total = new Float64Array(n).fill(NaN); // [inputs]
  for (const f of functions) {
    for (let i = 0; i < n; i++) {
      const v = f.values[i];
      if (Number.isNaN(v)) continue;
      total[i] = (Number.isNaN(total[i]) ? 0 : total[i]) + f.weight * v;
    }
  }
  return total;
}

/** Adds an error, merging it into an earlier one with the same kind, message and stack. */
export function addError(errors: RewardCallError[], e: RewardCallError): void {
  const same = errors.find((x) => x.kind === e.kind && x.message === e.message && x.stack === e.stack);
  if (same) same.samples.push(...e.samples);
  else errors.push({ ...e, samples: [...e.samples] });
}
