// Alerts a user would otherwise miss: failing reward functions, NaN rewards, groups with no
// reward variance, KL spikes and runaway completion lengths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectAlerts, klSpikes } from '../webview/alerts';
import { completion, metricsLine } from './helpers/dashboard-samples';

const quiet = { metrics: [], rollout: null, failures: [], maxNewTokens: 16 };
const kinds = (inputs: Parameters<typeof detectAlerts>[0]) => detectAlerts(inputs).map((a) => a.kind);

describe('detectAlerts', () => {
  it('says nothing about a healthy run', () => {
    const metrics = [1, 2, 3, 4, 5].map((i) => metricsLine(i, { kl: 0.01 + i * 0.001, 'completions/mean_length': 5, 'completions/clipped_ratio': 0 }));
    const rollout = { iteration: 5, completions: [completion({ group: 0, member: 0, reward: 0 }), completion({ group: 0, member: 1, reward: 1 })] };
    assert.deepEqual(detectAlerts({ ...quiet, metrics, rollout }), []);
  });

  it("reports each reward function's latest failure with its message and stack", () => {
    const failures = [
      { iteration: 1, failed: [{ fn: 'exact', errors: [{ kind: 'threw' as const, message: 'old', samples: [0] }] }] },
      { iteration: 3, failed: [{ fn: 'exact', errors: [{ kind: 'threw' as const, message: "Cannot read properties of undefined (reading 'answer')", stack: 'at exact (rewards/exact.reward.ts:4:18)', samples: [0, 1, 2] }] }] },
    ];
    const [a, ...rest] = detectAlerts({ ...quiet, failures });
    assert.equal(rest.length, 0);
    assert.equal(a.kind, 'reward-failure');
    assert.equal(a.severity, 'error');
    assert.match(a.title, /exact failed \(threw\) on 3 completions at iteration 3/);
    assert.match(a.detail, /reading 'answer'/);
    assert.equal(a.stack, 'at exact (rewards/exact.reward.ts:4:18)');
  });

  it('reports NaN rewards, counting unscored completions and missing values per function', () => {
    const rollout = {
      iteration: 2,
      completions: [
        completion({ group: 0, member: 0, reward: null, rewards: { exact: null }, advantage: 0 }),
        completion({ group: 0, member: 1, reward: 1, rewards: { exact: 1 } }),
      ],
    };
    const a = detectAlerts({ ...quiet, rollout }).find((x) => x.kind === 'nan-reward')!;
    assert.match(a.title, /iteration 2/);
    assert.match(a.detail, /1 of 2 completions have no reward at all.*exact: 1/);
  });

  it('reports groups with zero reward variance, a warning once they are the majority', () => {
    const flat = (g: number, r: number) => [0, 1].map((m) => completion({ group: g, member: m, reward: r, prompt: `<b>${g}</b>` }));
    const some = detectAlerts({ ...quiet, rollout: { iteration: 4, completions: [...flat(0, 1), completion({ group: 1, member: 0, reward: 0 }), completion({ group: 1, member: 1, reward: 1 })] } });
    assert.equal(some[0].kind, 'zero-variance');
    assert.equal(some[0].severity, 'info');
    assert.match(some[0].title, /1 of 2 groups at iteration 4/);
    assert.match(some[0].detail, /"<b>0<\/b>"/);
    const most = detectAlerts({ ...quiet, rollout: { iteration: 4, completions: [...flat(0, 1), ...flat(1, 0)] } });
    assert.equal(most[0].severity, 'warning');
  });

  it('finds KL spikes above 3x the running median of the iterations before, not before 3 iterations', () => {
    const kl = [0.01, 0.02, 0.015, 0.1, 0.02, 0.2];
    const metrics = kl.map((k, i) => metricsLine(i + 1, { kl: k }));
    // Medians before iterations 4 and 6: 0.015 and 0.02 (of 0.01, 0.015, 0.02, 0.02, 0.1).
    assert.deepEqual(klSpikes(metrics).map((s) => [s.iteration, s.median]), [[4, 0.015], [6, 0.02]]);
    const alert = detectAlerts({ ...quiet, metrics }).find((a) => a.kind === 'kl-spike')!;
    assert.match(alert.title, /iteration 6: 0\.200, 10\.0x/);
    assert.match(alert.detail, /also at iterations 4/);
    assert.deepEqual(klSpikes([0.01, 0.5].map((k, i) => metricsLine(i + 1, { kl: k }))), []);
    assert.deepEqual(klSpikes([0, 0, 0, 0.5].map((k, i) => metricsLine(i + 1, { kl: k }))), []); // kl_coef 0: no baseline
  });

  it('reports runaway lengths: most completions truncated, or mean length rising to near max_new_tokens', () => {
    assert.deepEqual(kinds({ ...quiet, metrics: [metricsLine(1, { 'completions/mean_length': 9, 'completions/clipped_ratio': 0.6 })] }), ['length-runaway']);
    const rising = [10, 12, 14, 15].map((l, i) => metricsLine(i + 1, { 'completions/mean_length': l, 'completions/clipped_ratio': 0.2 }));
    assert.deepEqual(kinds({ ...quiet, metrics: rising }), ['length-runaway']);
    const steady = [15, 15, 15, 15].map((l, i) => metricsLine(i + 1, { 'completions/mean_length': l, 'completions/clipped_ratio': 0.2 }));
    assert.deepEqual(kinds({ ...quiet, metrics: steady }), []);
  });
});
