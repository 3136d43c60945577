// Each reward function's latest figures, as its CodeLens shows them: mean and std from the
// iteration's metrics.jsonl line (`rewards/<name>/mean`, `/std`), failed samples from its
// reward-errors file.
import type { MetricsLine, RewardFailure } from '../../protocol/dashboard-messages';

export interface RewardStat {
  name: string;
  iteration: number;
  /** NaN when no sample got a value. */
  mean: number;
  std: number;
  /** Samples the function failed on (threw, timed out, returned a non-number). */
  errors: number;
}

const METRIC = /^rewards\/(.+)\/mean$/;

/** Function name -> its figures in the iteration of `metrics`. */
export function rewardStats(metrics: MetricsLine, failed: readonly RewardFailure[]): Map<string, RewardStat> {
  const stats = new Map<string, RewardStat>();
  const number = (key: string) => {
    const v = metrics[key];
    return typeof v === 'number' ? v : NaN; // NaN is written to JSON as null
  };
  for (const key of Object.keys(metrics)) {
    const name = METRIC.exec(key)?.[1];
    if (name === undefined) continue;
    const errors = failed.filter((f) => f.fn === name).reduce((n, f) => n + f.errors.reduce((k, e) => k + e.samples.length, 0), 0);
    stats.set(name, { name, iteration: metrics.iteration, mean: number(key), std: number(`rewards/${name}/std`), errors });
  }
  return stats;
}

const figure = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** `reward exactAnswer: mean 0.610 ± 0.320 · 0 errors (iter 42)` */
export function lensTitle(s: RewardStat): string {
  return `reward ${s.name}: mean ${figure(s.mean)} ± ${figure(s.std)} · ${s.errors} error${s.errors === 1 ? '' : 's'} (iter ${s.iteration})`;
}
