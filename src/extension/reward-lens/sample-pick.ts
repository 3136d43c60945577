// The completion a reward function liked most, or least, in one iteration's rollouts: what the
// "best sample" and "worst sample" lenses open.

import type { RolloutRecord } from '../../protocol/dashboard-messages';

export interface SampleRef {
  group: number;
  member: number;
}

/** The first record with the highest (best) or lowest (worst) value of `fn`; undefined when it scored none. */
export function pickSample(records: readonly Pick<RolloutRecord, 'group' | 'member' | 'rewards'>[], fn: string, which: 'best' | 'worst'): SampleRef | undefined {
  let picked: { ref: SampleRef; value: number } | undefined;
  for (const r of records) {
    const value = r.rewards[fn];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const better = !picked || (which === 'best' ? value > picked.value : value < picked.value);
    if (better) picked = { ref: { group: r.group, member: r.member }, value };
  }
  return picked?.ref;
}
