// Group-relative advantages against numbers worked out by hand (float64 throughout, so the
// tolerance only absorbs the rounding of the written-out constants).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeAdvantages, normalizeThenSum } from '../src/trainer/advantages';

const TOL = 1e-9;
const EPS = 1e-4;

function closeAll(actual: Float64Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= TOL, `${what}[${i}]: got ${actual[i]}, expected ${e}`));
}

// Group 1: {1, 0, 0, 0}: mean 0.25, unbiased std sqrt((0.75^2 + 3 * 0.25^2) / 3) = 0.5.
// Group 2: {2, 4, 6, 8}: mean 5, unbiased std sqrt(20 / 3) = 2.581988897471611.
const REWARDS = new Float64Array([1, 0, 0, 0, 2, 4, 6, 8]);
const STD2 = Math.sqrt(20 / 3);

describe('computeAdvantages', () => {
  it('group: (R - group mean) / (group std + eps), with the unbiased std of torch.std', () => {
    const { advantages, groupStd, zeroStdGroups } = computeAdvantages(REWARDS, 4, 'group');
    closeAll(groupStd, [0.5, STD2], 'groupStd');
    closeAll(advantages, [0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, ...[-3, -1, 1, 3].map((d) => d / (STD2 + EPS))], 'advantages');
    assert.equal(zeroStdGroups, 0);
  });

  it('a group of two with rewards 0 and 1 gets -+1/sqrt(2) (unbiased std), not -+1', () => {
    const { advantages } = computeAdvantages(new Float64Array([0, 1]), 2, 'group', 0);
    closeAll(advantages, [-Math.SQRT1_2, Math.SQRT1_2], 'advantages');
  });

  it('batch: group means, but one divisor, the std of every reward in the batch', () => {
    // mean 21/8; squares of deviations from it, summed, over n - 1 = 7.
    const mean = 21 / 8;
    const batchStd = Math.sqrt([1, 0, 0, 0, 2, 4, 6, 8].reduce((s, r) => s + (r - mean) ** 2, 0) / 7);
    const { advantages } = computeAdvantages(REWARDS, 4, 'batch');
    const centred = [0.75, -0.25, -0.25, -0.25, -3, -1, 1, 3];
    closeAll(advantages, centred.map((d) => d / (batchStd + EPS)), 'advantages');
  });

  it('none: R - group mean, no division (Dr. GRPO)', () => {
    const { advantages, groupStd } = computeAdvantages(REWARDS, 4, 'none');
    closeAll(advantages, [0.75, -0.25, -0.25, -0.25, -3, -1, 1, 3], 'advantages');
    closeAll(groupStd, [0.5, STD2], 'groupStd is still reported');
  });

  for (const scale of ['group', 'batch', 'none'] as const) {
    it(`${scale}: a group whose rewards do not vary gets exactly 0 and is counted`, () => {
      // 0.1 four times: the mean is not exactly 0.1 in binary, yet the advantages must be 0.
      const rewards = new Float64Array([3, 3, 3, 3, 0.1, 0.1, 0.1, 0.1, 0, 1, 0, 1]);
      const { advantages, zeroStdGroups } = computeAdvantages(rewards, 4, scale);
      assert.deepEqual([...advantages.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.ok(advantages.subarray(8).every((a) => a !== 0));
      assert.equal(zeroStdGroups, 2);
    });
  }

  it('frac_reward_zero_std as TRL defines it: the share of flat groups, but under batch scaling 1 only when the whole batch is flat', () => {
    const rewards = new Float64Array([3, 3, 3, 3, 0, 1, 0, 1]);
    assert.equal(computeAdvantages(rewards, 4, 'group').zeroStdFraction, 0.5);
    assert.equal(computeAdvantages(rewards, 4, 'none').zeroStdFraction, 0.5);
    assert.equal(computeAdvantages(rewards, 4, 'batch').zeroStdFraction, 0);
    assert.equal(computeAdvantages(new Float64Array([2, 2, 2, 2]), 2, 'batch').zeroStdFraction, 1);
  });

  it('a NaN reward gets advantage 0 and is left out of its group\'s mean and std', () => {
    // Finite rewards {1, 0, 0}: mean 1/3, unbiased std sqrt(((2/3)^2 + 2 (1/3)^2) / 2) = sqrt(1/3).
    const { advantages, groupStd } = computeAdvantages(new Float64Array([1, NaN, 0, 0]), 4, 'group');
    const std = Math.sqrt(1 / 3);
    closeAll(groupStd, [std], 'groupStd');
    closeAll(advantages, [(2 / 3) / (std + EPS), 0, (-1 / 3) / (std + EPS), (-1 / 3) / (std + EPS)], 'advantages');
  });

  it('a group with fewer than two finite rewards gives no signal: zeros, std 0, counted', () => {
    const rewards = new Float64Array([NaN, 5, NaN, NaN, NaN, NaN, NaN, NaN, 0, 2, 4, Infinity]);
    const { advantages, groupStd, zeroStdGroups } = computeAdvantages(rewards, 4, 'group');
    assert.deepEqual([...advantages.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
    closeAll(groupStd, [0, 0, 2], 'groupStd');
    closeAll(advantages.subarray(8), [-2 / (2 + EPS), 0, 2 / (2 + EPS), 0], 'third group (Infinity counts as failed)');
    assert.equal(zeroStdGroups, 2);
  });

  it('batch: the divisor leaves out NaN rewards too', () => {
    // Finite rewards {0, 2, 4, 6}: mean 3, unbiased std sqrt(20 / 3); group means 1 and 5.
    const { advantages } = computeAdvantages(new Float64Array([0, 2, NaN, 4, 6, NaN]), 3, 'batch');
    const d = STD2 + EPS;
    closeAll(advantages, [-1 / d, 1 / d, 0, -1 / d, 1 / d, 0], 'advantages');
  });

  it('refuses rewards that do not split into whole groups', () => {
    assert.throws(() => computeAdvantages(new Float64Array(5), 2, 'group'), /groups of 2/);
  });
});

describe('normalizeThenSum (GDPO)', () => {
  it('normalises each function within its groups, sums with the weights, then normalises over the batch', () => {
    const a = new Float64Array([1, 0, 0, 0, 2, 4, 6, 8]);
    const b = new Float64Array([10, 30, 20, 20, 5, 5, 5, 5]);
    const out = normalizeThenSum([{ values: a, weight: 1 }, { values: b, weight: 0.5 }], 4);
    const z = (v: Float64Array, g: number, i: number) => {
      const x = [...v.subarray(g * 4, g * 4 + 4)];
      const mean = x.reduce((s, y) => s + y, 0) / 4;
      const std = Math.sqrt(x.reduce((s, y) => s + (y - mean) ** 2, 0) / 3);
      return (v[g * 4 + i] - mean) / (std + EPS);
    };
    const summed = Array.from({ length: 8 }, (_, k) => z(a, Math.floor(k / 4), k % 4) + 0.5 * z(b, Math.floor(k / 4), k % 4));
    const mean = summed.reduce((s, y) => s + y, 0) / 8;
    const std = Math.sqrt(summed.reduce((s, y) => s + (y - mean) ** 2, 0) / 7);
    closeAll(out.advantages, summed.map((x) => (x - mean) / (std + EPS)), 'advantages');
    assert.equal(out.zeroStdFraction, 0);
  });

  it('a sample no function scored gets advantage 0; a missing value counts as 0 next to others', () => {
    const a = new Float64Array([1, NaN, 0, 1]);
    const b = new Float64Array([0, NaN, 1, NaN]);
    const out = normalizeThenSum([{ values: a, weight: 1 }, { values: b, weight: 1 }], 4);
    assert.equal(out.advantages[1], 0);
    assert.ok(out.advantages.every(Number.isFinite));
  });
});
