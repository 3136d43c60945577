// Held-out results, batch by batch, as evaluations.jsonl reports them (both engines).
import type { RewardScores } from '../rewards/scores';

export interface EvaluationSummary {
  mean: Record<string, number>; // per reward function, over samples it scored
  total: number; // weighted total's mean
  failures: Record<string, number>; // per function, samples it could not score
}

/** Scores of held-out batches added up: each function's mean and failures, the total's mean. */
export class EvaluationTally {
  private readonly sums: Record<string, { sum: number; n: number; failed: number }> = {};
  private total = 0;
  private totalN = 0;

  add(scores: Pick<RewardScores, 'functions' | 'total'>): void {
    for (const f of scores.functions) {
      const s = (this.sums[f.name] ??= { sum: 0, n: 0, failed: 0 });
      for (const v of f.values) {
        if (Number.isFinite(v)) (s.sum += v), s.n++;
        else s.failed++;
      }
    }
    for (const v of scores.total) if (Number.isFinite(v)) (this.total += v), this.totalN++;
  }

  summary(): EvaluationSummary {
    const sums = Object.entries(this.sums);
    return {
      mean: Object.fromEntries(sums.map(([k, s]) => [k, s.n ? s.sum / s.n : NaN])),
      total: this.totalN ? this.total / this.totalN : NaN,
      failures: Object.fromEntries(sums.map(([k, s]) => [k, s.failed])),
    };
  }
}
