// Old against new on hand-made numbers: the run's scale_rewards is used, sign flips ignore 0,
// and a sample no function scored has no reward and advantage 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RewardScores } from '../src/rewards/scores';
import { compareRollout } from '../src/rescore/compare';
import type { RolloutLine } from '../src/rescore/rollout-file';

function line(group: number, member: number, reward: number | null, advantage: number | null): RolloutLine {
  return { group, member, row: group, prompt: `p${group}`, completion: `c${group}.${member}`, completion_ids: [1], reward, rewards: { old: reward }, advantage };
}

function scores(values: number[]): RewardScores {
  const v = Float64Array.from(values);
  return { functions: [{ name: 'fresh', file: 'fresh.reward.ts', version: 'v1', weight: 1, values: v, errors: [] }], total: v, logs: [], metrics: {} };
}

const lines = [line(0, 0, 1, 0.5), line(0, 1, 0, -0.5), line(1, 0, 2, 0), line(1, 1, 2, 0)];

test('scale_rewards none: advantages are reward minus group mean, undivided', () => {
  const c = compareRollout(lines, scores([0, 4, 3, 1]), { group_size: 2, scale_rewards: 'none', multi_objective_aggregation: 'sum_then_normalize' });
  assert.deepEqual(c.samples.map((s) => s.newAdvantage), [-2, 2, 1, -1]);
  assert.equal(c.summary.signFlips, 2, 'group 0 turned around; group 1 was 0, which is no flip');
  assert.equal(c.summary.oldZeroStdShare, 0.5);
  assert.equal(c.summary.newZeroStdShare, 0);
  assert.deepEqual(c.groups.map((g) => [g.oldMean, g.newMean, g.oldZeroStd, g.newZeroStd]), [[0.5, 2, false, false], [2, 2, true, false]]);
  assert.equal(c.summary.oldMeanReward, 1.25);
  assert.equal(c.summary.newMeanReward, 2);
});

test('scale_rewards batch divides by the spread of the whole batch', () => {
  const c = compareRollout(lines, scores([0, 4, 3, 1]), { group_size: 2, scale_rewards: 'batch', multi_objective_aggregation: 'sum_then_normalize' });
  const mean = 2;
  const std = Math.sqrt([0, 4, 3, 1].reduce((a, r) => a + (r - mean) ** 2, 0) / 3);
  const want = [-2, 2, 1, -1].map((d) => Math.round((d / (std + 1e-4)) * 1e5) / 1e5);
  assert.deepEqual(c.samples.map((s) => s.newAdvantage), want);
});

test('a sample no function scored has no reward and advantage 0, and the rest of its group still counts', () => {
  const c = compareRollout(lines, scores([NaN, 4, 3, 1]), { group_size: 2, scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize' });
  assert.equal(c.samples[0].newReward, null);
  assert.deepEqual(c.samples[0].newRewards, { fresh: null });
  assert.equal(c.samples[0].newAdvantage, 0);
  assert.equal(c.samples[1].newAdvantage, 0, 'one finite reward left: no spread, no signal');
  assert.equal(c.groups[0].newZeroStd, true);
});
