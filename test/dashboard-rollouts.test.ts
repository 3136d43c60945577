// The rollout browser's logic: groups by prompt, members by advantage, per-token values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupRollout } from '../webview/rollout-groups';
import { tokenKl } from '../src/run-folder/token-kl';
import { tokenViews } from '../webview/token-values';
import { completion } from './helpers/dashboard-samples';

const TOL = 1e-12;

describe('groupRollout', () => {
  const completions = [
    completion({ group: 1, member: 0, reward: 1, advantage: 0 }),
    completion({ group: 0, member: 0, reward: 0, advantage: -0.87 }),
    completion({ group: 0, member: 1, reward: 1, advantage: 0.87 }),
    completion({ group: 0, member: 2, reward: null, advantage: null }),
    completion({ group: 0, member: 3, reward: 1, advantage: 0.87 }),
    completion({ group: 1, member: 1, reward: 1, advantage: 0 }),
  ];

  it('orders groups by index and members by advantage, ties by member, unscored last', () => {
    const groups = groupRollout(completions);
    assert.deepEqual(groups.map((g) => g.group), [0, 1]);
    assert.deepEqual(groups[0].members.map((m) => m.member), [1, 3, 0, 2]);
    assert.equal(groups[0].prompt, 'prompt 0');
  });

  it('computes each group mean and unbiased std over scored members, and flags zero variance', () => {
    const [g0, g1] = groupRollout(completions);
    assert.ok(Math.abs(g0.meanReward - 2 / 3) <= TOL);
    assert.ok(Math.abs(g0.rewardStd - Math.sqrt(1 / 3)) <= TOL); // {0, 1, 1}: sum of squares 2/3, over n - 1 = 2
    assert.equal(g0.zeroVariance, false);
    assert.equal(g1.zeroVariance, true);
    assert.equal(g1.rewardStd, 0);
    assert.equal(g0.advantageScale, 0.87); // shared by all groups
    assert.equal(g1.advantageScale, 0.87);
  });
});

describe('per-token values', () => {
  it('tokenKl is the k3 estimator exp(ref - logp) - (ref - logp) - 1, zero where the policies agree', () => {
    assert.equal(tokenKl(-1.2, -1.2), 0);
    assert.ok(Math.abs(tokenKl(-1, -2) - (Math.exp(-1) + 1 - 1)) <= TOL);
    assert.ok(Math.abs(tokenKl(-2, -1) - (Math.exp(1) - 1 - 1)) <= TOL);
    assert.ok(tokenKl(-0.3, -4) > 0 && tokenKl(-4, -0.3) > 0);
  });

  it('colours by log-probability or KL with the value on hover, and plain where no reference exists', () => {
    const c = completion({ group: 0, member: 0, completion_ids: [5, 6], tokens: ['4', '2'], logprobs: [-0.01, -5], ref_logprobs: [-0.01, -1] });
    const lp = tokenViews(c, 'logprob');
    assert.deepEqual(lp.map((t) => t.text), ['4', '2']);
    assert.ok(Math.abs(lp[0].intensity - 0.002) <= TOL);
    assert.equal(lp[1].intensity, 1);
    assert.match(lp[1].title, /token 6: log-probability -5\.000 \(p = 6\.74e-3\)/);
    const kl = tokenViews(c, 'kl');
    assert.equal(kl[0].intensity, 0);
    assert.ok(Math.abs(kl[1].intensity - Math.min(1, tokenKl(-5, -1))) <= TOL);
    assert.match(kl[1].title, /KL to reference 49\.598/);
    const noRef = tokenViews({ ...c, ref_logprobs: null }, 'kl');
    assert.deepEqual(noRef.map((t) => t.intensity), [0, 0]);
  });
});
