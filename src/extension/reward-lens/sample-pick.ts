// The completion a reward function liked most, or least, in one iteration's rollouts: what the
// "best sample" and "worst sample" lenses open.

export interface SampleRef {
  group: number;
  member: number;
}

interface ScoredRecord {
  group: number;
  member: number;
  rewards: Record<string, number | null>;
}

function isScoredRecord(r: unknown): r is ScoredRecord {
  const x = r as Partial<ScoredRecord> | null;
  return typeof x === 'object' && x !== null && typeof x.group === 'number' && typeof x.member === 'number' && typeof x.rewards === 'object' && x.rewards !== null;
}

/** The first record with the highest (best) or lowest (worst) value of `fn`; undefined when it scored none. */
export function pickSample(records: readonly unknown[], fn: string, which: 'best' | 'worst'): SampleRef | undefined {
  let picked: { ref: SampleRef; value: number } | undefined;
  for (const r of records) {
    if (!isScoredRecord(r)) continue;
    const value = r.rewards[fn];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const better = !picked || (which === 'best' ? value > picked.value : value < picked.value);
    if (better) picked = { ref: { group: r.group, member: r.member }, value };
  }
  return picked?.ref;
}
