// A workspace folder as a user would have it: the bundled demo task (a tiny model that learns
// two-digit sums), one reward file, and a config small enough that iterations come quickly.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
export const rewardFile = 'rewards/exact-answer.reward.ts';

/** The config the suite trains with: 32 completions an iteration, no evaluation, and enough
 * iterations that training is still running when the suite is done with it. */
export const fixtureConfig = {
  model_path: 'model',
  dataset_path: 'train.jsonl',
  rewards: [{ file: rewardFile }],
  output_dir: '.grpo/runs',
  num_iterations: 100000,
  rollout_batch_size: 8,
  group_size: 4,
  minibatch_size: 32,
  max_new_tokens: 5,
  learning_rate: 0.0001,
  kl_coef: 0,
  checkpoint_every: 0,
  seed: 1,
};

/** A fresh copy under the system temp folder; `name` shows in the window title; `config` over fixtureConfig. */
export function makeFixtureWorkspace(name: string, config: Record<string, unknown> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'grpo-e2e-')), name);
  mkdirSync(dir);
  const demo = join(root, 'examples', 'demo');
  cpSync(join(demo, 'model'), join(dir, 'model'), { recursive: true });
  for (const f of ['train.jsonl', 'heldout.jsonl']) cpSync(join(demo, f), join(dir, f));
  const rewards = join(root, 'examples', 'rewards');
  mkdirSync(join(dir, 'rewards'));
  cpSync(join(rewards, 'exact-answer.reward.ts'), join(dir, rewardFile));
  cpSync(join(rewards, 'lib'), join(dir, 'rewards', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'grpo.config.json'), `${JSON.stringify({ ...fixtureConfig, ...config }, null, 2)}\n`);
  return dir;
}
