import type { GrpoLossStatValues } from './loss';

/** The names a step reports: its loss statistics, its loss, and the entropy coefficient after it. */
export type StepValueName = keyof GrpoLossStatValues | 'loss' | 'entropyCoef';

/**
 * Per-name means over an iteration's optimizer steps of the finite values each step reported:
 * how TRL turns per-step values into one logged value (NaN left out).
 */
export class StepMeans {
  private readonly sums = new Map<string, { sum: number; n: number }>();

  add(values: Partial<Record<StepValueName, number>>): void {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || !Number.isFinite(v)) continue;
      const acc = this.sums.get(k) ?? { sum: 0, n: 0 };
      acc.sum += v;
      acc.n++;
      this.sums.set(k, acc);
    }
  }

  means(): Partial<Record<StepValueName, number>> {
    return Object.fromEntries([...this.sums].map(([k, { sum, n }]) => [k, sum / n]));
  }
}
