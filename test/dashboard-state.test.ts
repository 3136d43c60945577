// The dashboard's state from host messages (a snapshot rebuilds it; updates are idempotent),
// the settings form, and theme colours.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyHostMessage, emptyState, pickIteration, rolloutToRequest } from '../webview/dashboard-state';
import { parseSettingsInputs } from '../webview/live-settings-form';
import { themePalette, withAlpha } from '../webview/theme';
import { completion, metricsLine, runInfo } from './helpers/dashboard-samples';

const snapshot = {
  type: 'snapshot' as const,
  run: runInfo(),
  status: { state: 'running' as const, iteration: 2 },
  metrics: [metricsLine(2), metricsLine(1)],
  rolloutIterations: [2, 1],
  rollouts: { iteration: 2, completions: [completion({ group: 0, member: 0 })] },
  rewardFailures: [],
  evaluations: [{ iteration: 0, prompts: 4, reward: 0.25, rewards: { exact: 0.25 } }],
};

describe('dashboard state', () => {
  it('is rebuilt whole from a snapshot, as after a reload', () => {
    const s = applyHostMessage(emptyState(), snapshot);
    assert.deepEqual(s.metrics.map((m) => m.iteration), [1, 2]);
    assert.deepEqual(s.rolloutIterations, [1, 2]);
    assert.equal(s.rollout?.iteration, 2);
    assert.equal(s.run?.name, '20261124-235650');
    assert.equal(rolloutToRequest(s), null);
  });

  it('keeps one metrics line per iteration when the host resends one', () => {
    let s = applyHostMessage(emptyState(), snapshot);
    s = applyHostMessage(s, { type: 'metrics', metrics: metricsLine(3) });
    s = applyHostMessage(s, { type: 'metrics', metrics: metricsLine(3, { reward: 0.9 }) });
    s = applyHostMessage(s, { type: 'metrics', metrics: metricsLine(2) });
    assert.deepEqual(s.metrics.map((m) => m.iteration), [1, 2, 3]);
    assert.equal(s.metrics[2].reward, 0.9);
  });

  it('follows the newest rollout unless the user picked an iteration, and asks for the picked one', () => {
    let s = applyHostMessage(emptyState(), snapshot);
    s = applyHostMessage(s, { type: 'rollouts', iteration: 3, completions: [] });
    assert.equal(s.rollout?.iteration, 3);
    s = pickIteration(s, 1);
    assert.equal(rolloutToRequest(s), 1);
    s = applyHostMessage(s, { type: 'rollouts', iteration: 4, completions: [] });
    assert.equal(s.rollout?.iteration, 3, 'a new iteration does not replace the picked view');
    assert.deepEqual(s.rolloutIterations, [1, 2, 3, 4]);
    s = applyHostMessage(s, { type: 'rollouts', iteration: 1, completions: [] });
    assert.equal(s.rollout?.iteration, 1);
    assert.equal(rolloutToRequest(s), null);
    s = pickIteration(s, null);
    assert.equal(rolloutToRequest(s), 4);
  });

  it('keeps one evaluation per iteration, in order, from the snapshot and from evaluation messages', () => {
    let s = applyHostMessage(emptyState(), snapshot);
    s = applyHostMessage(s, { type: 'evaluation', evaluation: { iteration: 2, prompts: 4, reward: 0.5, rewards: { exact: 0.5 } } });
    s = applyHostMessage(s, { type: 'evaluation', evaluation: { iteration: 2, prompts: 4, reward: 0.75, rewards: { exact: 0.75 } } });
    assert.deepEqual(s.evaluations.map((e) => [e.iteration, e.reward]), [[0, 0.25], [2, 0.75]]);
  });

  it('takes status, settings and reward failures', () => {
    let s = applyHostMessage(emptyState(), snapshot);
    s = applyHostMessage(s, { type: 'status', status: { state: 'paused', iteration: 3 } });
    s = applyHostMessage(s, { type: 'settings', settings: { ...runInfo().settings, temperature: 0.7 } });
    s = applyHostMessage(s, { type: 'reward-failures', iteration: 3, failed: [{ fn: 'exact', errors: [] }] });
    assert.equal(s.status.state, 'paused');
    assert.equal(s.run?.settings.temperature, 0.7);
    assert.deepEqual(s.failures.map((f) => f.iteration), [3]);
  });
});

describe('settings form', () => {
  const current = runInfo().settings;
  const inputs = { learningRate: '0.0001', klCoef: '0.04', temperature: '1', rewardWeights: { exact: '1' } };

  it('sends only the fields that changed', () => {
    assert.deepEqual(parseSettingsInputs(inputs, current), { ok: true, change: null });
    assert.deepEqual(parseSettingsInputs({ ...inputs, temperature: ' 0.7 ', rewardWeights: { exact: '2' } }, current), {
      ok: true,
      change: { temperature: 0.7, rewardWeights: { exact: 2 } },
    });
  });

  it('refuses values the trainer would refuse, naming each', () => {
    const r = parseSettingsInputs({ ...inputs, learningRate: '0', klCoef: '-1', temperature: 'hot', rewardWeights: { exact: '' } }, current);
    assert.deepEqual(r, {
      ok: false,
      problems: ['learning rate: "0" is not a positive number', 'kl_coef: "-1" is not a non-negative number', 'temperature: "hot" is not a positive number', 'weight of exact: "" is not a number'],
    });
  });
});

describe('theme colours', () => {
  it('reads VS Code theme variables, falling back outside VS Code', () => {
    const vars: Record<string, string> = { '--vscode-editor-foreground': ' #112233', '--vscode-charts-blue': '#0000ff' };
    const p = themePalette((name) => vars[name] ?? '');
    assert.equal(p.foreground, '#112233');
    assert.equal(p.series[0], '#0000ff');
    assert.equal(p.series.length, 6);
    assert.equal(p.grid, 'rgba(17, 34, 51, 0.25)');
  });

  it('adds opacity to hex and rgb colours for bands', () => {
    assert.equal(withAlpha('#fff', 0.5), 'rgba(255, 255, 255, 0.5)');
    assert.equal(withAlpha('#3794ffcc', 0.2), 'rgba(55, 148, 255, 0.2)');
    assert.equal(withAlpha('rgb(1, 2, 3)', 0.1), 'rgba(1, 2, 3, 0.1)');
  });
});
