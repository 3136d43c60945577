// A real run folder for the rescore tests: `grpo train` on the demo model for two iterations,
// in a workspace of its own whose reward file the tests then edit.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { grpo } from './cli';

const demo = resolve(__dirname, '..', '..', 'examples', 'demo');

/** Exact answer, the reward the run trains with (weight 2 in its config). */
export const ANSWER_REWARD = `export function correct(sample: { completion: string; row: { answer: string } }): number {
  return sample.completion.trim() === sample.row.answer ? 1 : 0;
}
`;

export interface TrainedRun {
  workspace: string;
  runDir: string;
  /** answer.reward.ts, the run's one reward file. */
  rewardFile: string;
}

export function trainRun(): TrainedRun {
  const workspace = mkdtempSync(join(tmpdir(), 'grpo-rescore-'));
  const rewardFile = join(workspace, 'answer.reward.ts');
  writeFileSync(rewardFile, ANSWER_REWARD);
  const configFile = join(workspace, 'grpo.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      model_path: join(demo, 'model'),
      dataset_path: join(demo, 'train.jsonl'),
      rewards: [{ file: 'answer.reward.ts', weight: 2 }],
      output_dir: 'runs',
      num_iterations: 2,
      rollout_batch_size: 4,
      group_size: 4,
      minibatch_size: 16,
      max_new_tokens: 4,
      temperature: 1.5, // varied groups, so that advantages are not all 0
      learning_rate: 0.0001,
      kl_coef: 0.04,
      seed: 3,
    }),
  );
  const r = grpo('train', '--config', configFile);
  if (r.code !== 0) throw new Error(`grpo train failed: ${r.stderr}`);
  const [name] = readdirSync(join(workspace, 'runs'));
  return { workspace, runDir: join(workspace, 'runs', name), rewardFile };
}
