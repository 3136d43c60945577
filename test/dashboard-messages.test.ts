// The host <-> dashboard protocol: every message is checked on receipt, and a malformed one
// is refused with a reason that names the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostMessageProblem,
  isHostMessage,
  isWebviewMessage,
  webviewMessageProblem,
  type HostMessage,
  type WebviewMessage,
} from '../src/protocol/dashboard-messages';
import { MessageQueue } from '../src/protocol/message-queue';
import { completion, metricsLine, runInfo } from './helpers/dashboard-samples';

const snapshot: HostMessage = {
  type: 'snapshot',
  run: runInfo(),
  status: { state: 'paused', iteration: 2 },
  metrics: [metricsLine(1), metricsLine(2, { reward: null })],
  rolloutIterations: [1, 2],
  rollouts: { iteration: 2, completions: [completion({ group: 0, member: 0, ref_logprobs: [-0.4, -0.6] })] },
  rewardFailures: [{ iteration: 2, failed: [{ fn: 'exact', errors: [{ kind: 'threw', message: 'boom', stack: 'at exact (rewards/exact.reward.ts:3:9)', samples: [0, 3] }] }] }],
  evaluations: [{ iteration: 0, prompts: 4, reward: null, rewards: { exact: null } }],
};

describe('host -> webview messages', () => {
  it('accepts every declared message, NaN metrics sent as null included', () => {
    const valid: HostMessage[] = [
      snapshot,
      { type: 'metrics', metrics: metricsLine(3, { kl: null }) },
      { type: 'rollouts', iteration: 3, completions: [completion({ group: 1, member: 2 })] },
      { type: 'reward-failures', iteration: 3, failed: [] },
      { type: 'status', status: { state: 'running', iteration: 3, message: 'generating' } },
      { type: 'settings', settings: runInfo().settings },
    ];
    for (const m of valid) assert.equal(hostMessageProblem(m), undefined, m.type);
    // A round trip through JSON, as postMessage does, keeps them valid.
    for (const m of valid) assert.ok(isHostMessage(JSON.parse(JSON.stringify(m))), m.type);
  });

  it('refuses malformed messages with the path of the bad field', () => {
    const cases: [unknown, RegExp][] = [
      [null, /expected an object/],
      [{ type: 'explode' }, /type: expected one of snapshot, metrics/],
      [{ type: 'metrics', metrics: { reward: 1 } }, /metrics message: metrics\.iteration: expected a non-negative integer, got undefined/],
      [{ type: 'metrics', metrics: { iteration: 1, reward_versions: { a: 3 } } }, /metrics\.reward_versions\.a: expected a string, got 3/],
      [{ type: 'status', status: { state: 'dancing', iteration: 1 } }, /status\.state: expected "starting" or/],
      [{ type: 'rollouts', iteration: 1, completions: [{ ...completion({ group: 0, member: 0 }), tokens: ['a'] }] }, /completions\[0\]\.tokens: 1 entries for 2 completion_ids/],
      [{ type: 'rollouts', iteration: 1, completions: [{ ...completion({ group: 0, member: 0 }), ref_logprobs: [-1] }] }, /ref_logprobs: 1 entries for 2/],
      [{ type: 'rollouts', iteration: 1, completions: [{ ...completion({ group: 0, member: 0 }), completion: 7 }] }, /completions\[0\]\.completion: expected a string, got 7/],
      [{ ...snapshot, run: runInfo({ settings: { ...runInfo().settings, temperature: 0 } }) }, /run\.settings\.temperature: expected a number > 0, got 0/],
      [{ type: 'reward-failures', iteration: 1, failed: [{ fn: 'f', errors: [{ kind: 'threw', message: 'x', samples: [-1] }] }] }, /failed\[0\]\.errors\[0\]\.samples\[0\]/],
    ];
    for (const [value, reason] of cases) {
      const problem = hostMessageProblem(value);
      assert.match(problem ?? 'accepted', reason, JSON.stringify(value).slice(0, 80));
      assert.equal(isHostMessage(value), false);
    }
  });
});

describe('webview -> host messages', () => {
  it('accepts ready, controls, live settings, rollout requests and open-completion', () => {
    const valid: WebviewMessage[] = [
      { type: 'ready' },
      { type: 'control', action: 'step' },
      { type: 'live-settings', settings: { learningRate: 5e-5, rewardWeights: { exact: 0.5 } } },
      { type: 'live-settings', settings: { klCoef: 0 } },
      { type: 'request-rollouts', iteration: 4 },
      { type: 'open-completion', iteration: 4, group: 1, member: 3 },
    ];
    for (const m of valid) assert.ok(isWebviewMessage(m), webviewMessageProblem(m));
  });

  it('refuses unknown actions and out-of-range settings', () => {
    assert.match(webviewMessageProblem({ type: 'control', action: 'rm -rf' }) ?? '', /action: expected "pause" or "resume" or "step" or "stop"/);
    assert.match(webviewMessageProblem({ type: 'live-settings', settings: { learningRate: -1 } }) ?? '', /settings\.learningRate: expected a number > 0, got -1/);
    assert.match(webviewMessageProblem({ type: 'live-settings', settings: { klCoef: -0.1 } }) ?? '', /klCoef: expected a number >= 0/);
    assert.match(webviewMessageProblem({ type: 'live-settings', settings: { rewardWeights: { exact: 'high' } } }) ?? '', /rewardWeights\.exact: expected a finite number, got "high"/);
    assert.match(webviewMessageProblem({ type: 'request-rollouts', iteration: 1.5 }) ?? '', /iteration: expected a non-negative integer, got 1\.5/);
    assert.match(webviewMessageProblem('ready') ?? '', /message: expected an object, got "ready"/);
  });
});

describe('MessageQueue', () => {
  it('holds messages until ready, delivers the snapshot first, then in order, and holds again after a reset', () => {
    const delivered: string[] = [];
    const q = new MessageQueue<string>((m) => delivered.push(m));
    q.post('metrics 1');
    q.post('metrics 2');
    assert.deepEqual(delivered, []);
    assert.equal(q.isOpen, false);
    q.open('snapshot');
    assert.deepEqual(delivered, ['snapshot', 'metrics 1', 'metrics 2']);
    q.post('metrics 3');
    assert.deepEqual(delivered.slice(3), ['metrics 3']);
    q.reset();
    q.post('metrics 4');
    assert.equal(delivered.length, 4);
    q.open('snapshot 2');
    assert.deepEqual(delivered.slice(4), ['snapshot 2', 'metrics 4']);
  });
});
