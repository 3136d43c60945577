// A real run folder from `grpo train` on the bundled demo: 2 iterations of 2 prompts x 4
// completions with the exact-answer reward and a reference model, written under `work`.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { grpo } from './cli';

export const demo = resolve(__dirname, '..', '..', 'examples', 'demo');

/** The demo run's config, written to `work/grpo.config.json`; `settings` override its fields. */
export function writeDemoConfig(work: string, settings: Record<string, unknown> = {}): string {
  const configFile = join(work, 'grpo.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      rewards: [{ file: resolve(demo, '..', 'rewards', 'exact-answer.reward.ts') }],
      output_dir: join(work, 'runs'),
      num_iterations: 2,
      rollout_batch_size: 2,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 5,
      learning_rate: 0.0001,
      kl_coef: 0.04,
      seed: 1,
      ...settings,
    }),
  );
  return configFile;
}

/** Trains and returns the run folder; `settings` override the config's fields. */
export function trainDemoRun(work: string, settings: Record<string, unknown> = {}): string {
  const configFile = writeDemoConfig(work, settings);
  const r = grpo('train', '--config', configFile);
  assert.equal(r.code, 0, r.stderr);
  return join(work, 'runs', readdirSync(join(work, 'runs'))[0]);
}
