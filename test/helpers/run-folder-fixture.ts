import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function completion(group: number, member: number, iteration: number) {
  return {
    group,
    member,
    row: group,
    prompt: `p${group}`,
    completion: 'ab',
    completion_ids: [7, iteration],
    finish_reason: 'eos',
    reward: member === 0 ? null : 1,
    rewards: { exact: member === 0 ? null : 1 },
    advantage: member === 0 ? 0 : 0.5,
    logprobs: [-0.1, null],
    ref_logprobs: null,
  };
}

/** A run folder as the trainer leaves it after `iterations`, killed while appending a metrics line. */
export function writeRun(iterations: number, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-run-folder-'));
  for (const sub of ['rollouts', 'reward-errors', 'checkpoints']) mkdirSync(join(dir, sub));
  const config = {
    model_path: '/models/tiny',
    dataset_path: '/data/train.jsonl',
    rewards: [{ file: 'a.reward.ts', weight: 2 }, { file: 'b.reward.ts', functions: ['brevity'], weight: 0.5 }],
    group_size: 2,
    max_new_tokens: 16,
    kl_coef: 0.1,
    ...extra,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  let metrics = '';
  for (let i = 1; i <= iterations; i++) {
    metrics += JSON.stringify({ iteration: i, reward: i === 2 ? null : 0.5, 'rewards/exact/mean': 0.5, 'rewards/brevity/mean': 1, learning_rate: [1e-4, 2e-4, 3e-4][i - 1], reward_versions: { 'a.reward.ts': 'h1' } }) + '\n';
    const records = [completion(0, 0, i), completion(0, 1, i)];
    writeFileSync(join(dir, 'rollouts', `iter-${String(i).padStart(6, '0')}.jsonl`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  writeFileSync(join(dir, 'metrics.jsonl'), metrics + '{"iteration": 9, "rew');
  const failed = [{ fn: 'exact', errors: [{ kind: 'threw', message: 'boom', stack: 'at exact (a.reward.ts:3:9)', samples: [0] }] }];
  writeFileSync(join(dir, 'reward-errors', 'iter-000001.json'), JSON.stringify({ failed, logs: [], metrics: {} }));
  writeFileSync(join(dir, 'reward-errors', 'iter-000002.json'), JSON.stringify({ failed: [], logs: [{ fn: 'exact', line: 'hi' }], metrics: {} }));
  return dir;
}
