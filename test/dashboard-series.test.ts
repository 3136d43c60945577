// metrics.jsonl lines -> chart series: lines per iteration, std bands, gaps for NaN, and a
// marker where a reward file changed version.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chartSpecs, rewardFunctionNames, rewardMetricNames, versionChanges } from '../webview/metric-series';
import { metricsLine } from './helpers/dashboard-samples';

const TOL = 1e-12;
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) <= TOL, `got ${a}, expected ${b}`);

const metrics = [
  metricsLine(2, { reward: 0.6, reward_std: 0.2, 'rewards/exact/mean': 0.6, 'rewards/exact/std': 0.3, 'rewards/format/mean': 1, 'rewards/format/std': 0 }),
  metricsLine(1, { reward: 0.4, reward_std: 0.1, 'rewards/exact/mean': 0.4, 'rewards/exact/std': 0.5 }),
  metricsLine(3, { reward: null, reward_std: 0.2, kl: 0.02, reward_versions: { 'rewards/exact.reward.ts': 'v2' } }),
  metricsLine(4, { reward: 0.7, reward_std: 0.2, reward_versions: { 'rewards/exact.reward.ts': 'v2' } }),
  metricsLine(5, { reward: 0.7, reward_std: 0.2, reward_versions: { 'rewards/exact.reward.ts': 'v2', 'rewards/format.reward.ts': 'f1' } }),
];

describe('chartSpecs', () => {
  it('draws total reward by iteration with a band of reward +- reward_std, a gap at a NaN', () => {
    const reward = chartSpecs(metrics).find((c) => c.id === 'reward')!;
    const [s] = reward.series;
    assert.deepEqual(s.points.map((p) => p.x), [1, 2, 3, 4, 5]);
    assert.deepEqual(s.points.map((p) => p.y), [0.4, 0.6, null, 0.7, 0.7]);
    close(s.band!.low[0].y, 0.3);
    close(s.band!.high[0].y, 0.5);
    close(s.band!.low[1].y, 0.4);
    assert.equal(s.band!.low[2].y, null); // no mean, no band
  });

  it('gives each reward function its own chart with its std band, in order of first appearance', () => {
    assert.deepEqual(rewardFunctionNames(metrics), ['exact', 'format']);
    const specs = chartSpecs(metrics);
    const exact = specs.find((c) => c.id === 'reward-fn:exact')!;
    close(exact.series[0].band!.low[0].y, -0.1); // iteration 1: 0.4 - 0.5
    close(exact.series[0].band!.high[1].y, 0.9); // iteration 2: 0.6 + 0.3
    assert.equal(exact.series[0].points[2].y, null); // iteration 3 has no value for it
    assert.deepEqual(specs.slice(0, 3).map((s) => s.id), ['reward', 'reward-fn:exact', 'reward-fn:format']);
  });

  it('charts what a reward function records with ctx.metric right after its reward chart', () => {
    const lines = [metricsLine(1, { 'rewards/exact/mean': 0.5, 'exact/has_answer': 0.75, 'exact/digits': 2 }), metricsLine(2, { 'rewards/exact/mean': 0.6, 'exact/has_answer': 0.8 })];
    assert.deepEqual([...rewardMetricNames(lines, ['exact'])], [['exact', ['exact/has_answer', 'exact/digits']]]);
    const specs = chartSpecs(lines);
    const at = specs.findIndex((c) => c.id === 'reward-metrics:exact');
    assert.equal(specs[at - 1].id, 'reward-fn:exact');
    assert.deepEqual(specs[at].series.map((x) => x.label), ['has_answer', 'digits']);
    assert.deepEqual(specs[at].series[1].points.map((p) => p.y), [2, null]);
    // Keys of other slashed metrics (clip_ratio/..., time/...) are not a reward function's.
    assert.deepEqual([...rewardMetricNames([metricsLine(1, { 'clip_ratio/low_mean': 0 })], ['exact'])], []);
  });

  it('leaves out charts whose metrics never appear, and keeps the rest', () => {
    const ids = chartSpecs(metrics).map((c) => c.id);
    assert.ok(ids.includes('kl') && ids.includes('loss'));
    assert.ok(!ids.includes('entropy') && !ids.includes('clip') && !ids.includes('throughput'));
    const full = chartSpecs([
      metricsLine(1, { entropy: 0.3, 'clip_ratio/low_mean': 0.01, 'clip_ratio/high_mean': 0, 'clip_ratio/region_mean': 0.01, 'completions/mean_length': 3, 'completions/min_length': 2, 'completions/max_length': 5 }),
    ]);
    const length = full.find((c) => c.id === 'length')!;
    assert.deepEqual([length.series[0].band!.low[0].y, length.series[0].points[0].y, length.series[0].band!.high[0].y], [2, 3, 5]);
    assert.deepEqual(full.find((c) => c.id === 'clip')!.series.map((s) => s.label), ['low', 'high', 'region'], 'no cispo line in a clipped run');
    const cispo = chartSpecs([metricsLine(1, { cispo_clip_ratio: 0.02 })]).find((c) => c.id === 'clip')!;
    assert.deepEqual(cispo.series.map((s) => s.label), ['cispo']);
  });

  it('draws held-out evaluations after the reward chart: the total, and each function when there are several', () => {
    const evaluations = [
      { iteration: 4, prompts: 8, reward: 0.75, rewards: { exact: 0.5, format: 1 } },
      { iteration: 0, prompts: 8, reward: null, rewards: { exact: 0.25, format: null } },
    ];
    const specs = chartSpecs(metrics, evaluations);
    assert.deepEqual(specs.slice(0, 2).map((s) => s.id), ['reward', 'heldout']);
    const heldOut = specs[1];
    assert.deepEqual(heldOut.series.map((s) => s.label), ['total', 'exact', 'format']);
    assert.deepEqual(heldOut.series[0].points, [{ x: 0, y: null }, { x: 4, y: 0.75 }]);
    assert.deepEqual(heldOut.series[2].points.map((p) => p.y), [null, 1]);
    assert.deepEqual(heldOut.markers, [3, 5]);
    const single = chartSpecs(metrics, [{ iteration: 0, prompts: 8, reward: 0.5, rewards: { exact: 0.5 } }]).find((c) => c.id === 'heldout')!;
    assert.deepEqual(single.series.map((s) => s.label), ['total']);
    assert.equal(chartSpecs(metrics).find((c) => c.id === 'heldout'), undefined, 'no evaluations, no chart');
  });

  it('marks every chart at iterations where a reward file changed, was added, or was dropped', () => {
    assert.deepEqual(versionChanges(metrics), [3, 5]);
    for (const spec of chartSpecs(metrics)) assert.deepEqual(spec.markers, [3, 5], spec.id);
    const dropped = [metricsLine(1), metricsLine(2, { reward_versions: {} })];
    assert.deepEqual(versionChanges(dropped), [2]);
    assert.deepEqual(versionChanges([metricsLine(1)]), []);
  });
});
