// A rollout's completions arranged as the rollout browser shows them: one group per prompt,
// members best advantage first.
import type { RolloutCompletion } from '../src/protocol/dashboard-messages';

export interface RolloutGroup {
  group: number;
  prompt: string;
  /** Highest advantage first; completions without one (no reward at all) last. */
  members: RolloutCompletion[];
  meanReward: number; // NaN when no member has a reward
  rewardStd: number; // unbiased, as the trainer's advantages; 0 for a single reward
  /** Every scored member got the same reward: the group contributes no gradient. */
  zeroVariance: boolean;
  /** The largest |advantage| over all groups, so bars share one scale. */
  advantageScale: number;
}

export function groupRollout(completions: readonly RolloutCompletion[]): RolloutGroup[] {
  const byGroup = new Map<number, RolloutCompletion[]>();
  for (const c of completions) {
    const members = byGroup.get(c.group) ?? [];
    members.push(c);
    byGroup.set(c.group, members);
  }
  const scale = Math.max(0, ...completions.map((c) => Math.abs(c.advantage ?? 0)));
  return [...byGroup.entries()]
    .sort(([a], [b]) => a - b)
    .map(([group, members]) => {
      const rewards = members.map((m) => m.reward).filter((r): r is number => r !== null);
      const mean = rewards.length ? rewards.reduce((a, b) => a + b, 0) / rewards.length : NaN;
      const std = rewards.length > 1 ? Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / (rewards.length - 1)) : 0;
      return {
        group,
        prompt: members[0].prompt,
        members: [...members].sort(byAdvantage),
        meanReward: mean,
        rewardStd: std,
        zeroVariance: rewards.length > 1 && rewards.every((r) => r === rewards[0]),
        advantageScale: scale,
      };
    });
}

function byAdvantage(a: RolloutCompletion, b: RolloutCompletion): number {
  if (a.advantage === null || b.advantage === null) return (a.advantage === null ? 1 : 0) - (b.advantage === null ? 1 : 0) || a.member - b.member;
  return b.advantage - a.advantage || a.member - b.member;
}
