// Small dashboard inputs written out by hand: metrics lines and rollout completions shaped as
// the trainer writes them (metrics.jsonl, rollouts/iter-N.jsonl plus decoded tokens).
import type { MetricsLine, RolloutCompletion, RunInfo } from '../../src/protocol/dashboard-messages';

export function completion(fields: Partial<RolloutCompletion> & { group: number; member: number }): RolloutCompletion {
  const ids = fields.completion_ids ?? [11, 12];
  return {
    row: fields.group,
    prompt: `prompt ${fields.group}`,
    completion: 'ab',
    completion_ids: ids,
    tokens: ids.map((_, i) => 'ab'[i] ?? '?'),
    finish_reason: 'eos',
    reward: 0,
    rewards: { exact: 0 },
    advantage: 0,
    logprobs: ids.map(() => -0.5),
    ref_logprobs: null,
    ...fields,
  };
}

export function metricsLine(iteration: number, fields: Record<string, number | null | Record<string, string>> = {}): MetricsLine {
  return { iteration, reward: 0.5, reward_std: 0.1, kl: 0.01, loss: 0.1, reward_versions: { 'rewards/exact.reward.ts': 'v1' }, ...fields };
}

export function runInfo(fields: Partial<RunInfo> = {}): RunInfo {
  return {
    name: '20261124-235650',
    runDir: '/work/runs/20261124-235650',
    readOnly: false,
    maxNewTokens: 16,
    groupSize: 4,
    settings: { learningRate: 1e-4, klCoef: 0.04, temperature: 1, rewardWeights: { exact: 1 } },
    ...fields,
  };
}
