// The latest group of completions of each dataset row, from rollouts/iter-N.jsonl records
// (src/trainer/rollout-records.ts): what a dataset file shows inline. Only the newest group of
// a row is kept, and long completions are cut, so memory stays bounded by the dataset's size.
import type { RolloutRecord } from '../../protocol/dashboard-messages';

export interface GroupMember {
  completion: string;
  reward: number | null;
  advantage: number | null;
  /** Function name -> value; null where it failed or did not apply. */
  rewards: Record<string, number | null>;
}

export interface RowGroup {
  iteration: number;
  /** Highest reward first; unscored members last. */
  members: GroupMember[];
  /** Mean over the members that got a reward; null when none did. */
  meanReward: number | null;
}

/** Row index -> its newest group. */
export type RowGroups = ReadonlyMap<number, RowGroup>;

/** Characters of a completion kept for the hover. */
export const KEPT_CHARS = 2000;

/** What a dataset line shows of a rollouts record (RunFolder.records checks them). */
type RolloutLine = Pick<RolloutRecord, 'group' | 'row' | 'completion' | 'reward' | 'advantage' | 'rewards'>;

const byReward = (a: GroupMember, b: GroupMember) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity);

/** The groups of one iteration's records, by row; a row sampled twice keeps its later group. */
export function groupsOfIteration(records: readonly RolloutLine[], iteration: number): Map<number, RowGroup> {
  const groups = new Map<number, { row: number; members: GroupMember[] }>();
  for (const r of records) {
    const member: GroupMember = { completion: r.completion.slice(0, KEPT_CHARS), reward: r.reward, advantage: r.advantage, rewards: r.rewards };
    const g = groups.get(r.group) ?? { row: r.row, members: [] };
    g.members.push(member);
    groups.set(r.group, g);
  }
  const byRow = new Map<number, RowGroup>();
  for (const [, g] of [...groups].sort(([a], [b]) => a - b)) {
    const scored = g.members.map((m) => m.reward).filter((x): x is number => x !== null);
    const meanReward = scored.length ? scored.reduce((s, x) => s + x, 0) / scored.length : null;
    byRow.set(g.row, { iteration, members: [...g.members].sort(byReward), meanReward });
  }
  return byRow;
}

/** `current` with every row of `other` whose group is newer. */
export function withNewer(current: RowGroups, other: RowGroups): Map<number, RowGroup> {
  const merged = new Map(current);
  for (const [row, g] of other) {
    const mine = merged.get(row);
    if (!mine || g.iteration > mine.iteration) merged.set(row, g);
  }
  return merged;
}
