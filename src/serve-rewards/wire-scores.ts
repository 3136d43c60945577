// The parts of a scoring answer both protocols share. JSON has no NaN, so a missing value
// (a failed function, a null return, a sample no function scored) travels as null.
import type { RewardCallError, RewardScores } from '../rewards/scores';

export interface WireError {
  /** The reward function that failed; null for a sample refused before any function ran. */
  function: string | null;
  /** Its reward file, workspace-relative; null with `function`. */
  file: string | null;
  kind: RewardCallError['kind'] | 'query_without_prompt';
  message: string;
  /** Stack frames mapped to the reward's .ts file, when there are any. */
  stack?: string;
  /** Indices into the request's samples. */
  samples: number[];
}

/** [samples] values with NaN as null. */
export function wireValues(values: Float64Array): (number | null)[] {
  return Array.from(values, (v) => (Number.isNaN(v) ? null : v));
}

/** Every function's errors, flat, each naming its function and file. */
export function wireErrors(scores: RewardScores): WireError[] {
  return scores.functions.flatMap((f) =>
    f.errors.map((e) => ({
      function: f.name,
      file: f.file,
      kind: e.kind,
      message: e.message,
      ...(e.stack === undefined ? {} : { stack: e.stack }),
      samples: e.samples,
    })),
  );
}
