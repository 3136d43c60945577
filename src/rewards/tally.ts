// Collects the outcomes of one iteration's reward calls into RewardScores.

import { assert } from '../errors';
import { addError, weightedTotal, type FunctionScores, type RewardScores } from './scores';
import type { CallOutcome } from './worker-slot';

// A reward that hangs on every sample would otherwise stall an iteration for samples x limit.
const MAX_TIMEOUTS_PER_ITERATION = 3;
// Enough to read; a reward printing in a loop must not flood the run folder.
const MAX_LOG_LINES_PER_FUNCTION = 1000;

interface FunctionTally extends FunctionScores {
  timeouts: number;
  logLines: number;
}

export class IterationTally {
  private readonly functions: FunctionTally[];
  private readonly logs: RewardScores['logs'] = [];
  private readonly metrics: RewardScores['metrics'] = {};

  constructor(
    functions: readonly Omit<FunctionScores, 'values' | 'errors'>[],
    private readonly n: number,
  ) {
    this.functions = functions.map((f) => ({ ...f, values: new Float64Array(n).fill(NaN), errors: [], timeouts: 0, logLines: 0 }));
  }

  /** False once function `fn` has timed out too often this iteration; its remaining samples are recorded as skipped. */
  shouldCall(fn: number, samples: number[]): boolean {
    const f = this.functions[fn];
    if (f.timeouts < MAX_TIMEOUTS_PER_ITERATION) return true;
    addError(f.errors, { kind: 'skipped', message: `not called: it timed out ${f.timeouts} times this iteration`, samples });
    return false;
  }

  /** Records one call of function `fn` on `samples` (indices into the iteration's inputs). */
  record(fn: number, samples: number[], out: CallOutcome): void {
    const f = this.functions[fn];
    if (!out.ok) {
      if (out.kind === 'timeout') f.timeouts++;
      addError(f.errors, { kind: out.kind, message: out.message, stack: out.stack, samples });
      return;
    }
    const r = out.result;
    assert(r.values.length === samples.length, 'a reward worker returns one value per sample');
    r.values.forEach((v, j) => (f.values[samples[j]] = v));
    for (const p of r.problems) addError(f.errors, { ...p, samples: p.samples.map((j) => samples[j]) });
    for (const line of r.logs) {
      if (f.logLines++ < MAX_LOG_LINES_PER_FUNCTION) this.logs.push({ fn: f.name, line });
    }
    for (const [name, v] of r.metrics) (this.metrics[`${f.name}/${name}`] ??= []).push(v);
  }

  finish(): RewardScores {
    const functions = this.functions.map(({ name, file, version, weight, values, errors, logLines }) => {
      if (logLines > MAX_LOG_LINES_PER_FUNCTION) {
        this.logs.push({ fn: name, line: `(${logLines - MAX_LOG_LINES_PER_FUNCTION} more lines not kept)` });
      }
      return { name, file, version, weight, values, errors };
    });
    return { functions, total: weightedTotal(functions, this.n), logs: this.logs, metrics: this.metrics };
  }
}
