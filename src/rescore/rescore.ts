// Scores a run's last rollout again with the reward files as they are on disk now, the same way
// the trainer scores (same runner, weights, time limit, samples), and compares with what the
// run recorded: what an edited reward would change before the next iteration applies it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';
import { RewardRunner, type RewardSpec } from '../rewards/runner';
import type { TrainerState } from '../trainer/checkpoint';
import { listCheckpoints, STATE_FILE } from '../trainer/checkpoint-files';
import type { TrainingConfig } from '../trainer/config';
import { loadPromptDataset, type PromptRow } from '../trainer/dataset';
import { RunFolder } from '../run-folder/run-folder';
import { compareRollout } from './compare';
import type { RescoreReport } from './report';
import { readIterationRollouts, type RolloutLine } from './rollout-file';

export interface RescoreOptions {
  runDir: string;
  /** The iteration whose rollouts to score; default the newest. */
  iteration?: number;
  /** Score with these reward files instead of the run's; a file the run had keeps its weight and functions. */
  rewardFiles?: readonly string[];
  /** Reward file names are shown relative to it, and relative `rewardFiles` resolve from it. */
  workspaceRoot: string;
}

export async function rescoreRun(opts: RescoreOptions): Promise<RescoreReport> {
  const runDir = resolve(opts.runDir);
  const root = resolve(opts.workspaceRoot);
  const config = await new RunFolder(runDir).config();
  const rollouts = await readIterationRollouts(runDir, config.group_size, opts.iteration);
  const rows = await loadPromptDataset(config.dataset_path);
  const specs = rewardSpecs(config, runDir, root, opts.rewardFiles);
  const runner = await RewardRunner.start(specs, {
    workspaceRoot: root,
    timeoutMs: config.reward_timeout_ms,
    writable: [runDir],
    childProcesses: config.reward_child_processes,
  });
  try {
    const names = runner.rewards().map((r) => r.name);
    const live = await liveRewardWeights(runDir);
    runner.setWeights(Object.fromEntries(Object.entries(live).filter(([name]) => names.includes(name))));
    const samples = rollouts.lines.map((l) => ({
      prompt: l.prompt,
      completion: l.completion,
      completionIds: l.completion_ids,
      row: datasetRow(rows, l, config.dataset_path, rollouts.file).row,
    }));
    const scores = await runner.score(samples, rollouts.iteration - 1); // ctx.iteration is 0-based, as in training
    return {
      runDir,
      iteration: rollouts.iteration,
      rolloutsFile: rollouts.file,
      groupSize: config.group_size,
      scaleRewards: config.scale_rewards,
      rewards: runner.rewards().map((r) => ({ name: r.name, file: r.file, version: r.version, weight: r.weight })),
      ...compareRollout(rollouts.lines, scores, config),
    };
  } finally {
    await runner.close();
  }
}

/** The run's reward specs, or `files` with the run's weight and functions where it had the file. */
function rewardSpecs(config: TrainingConfig, runDir: string, root: string, files: readonly string[] | undefined): RewardSpec[] {
  const own = config.rewards.map((r) => ({ file: resolve(r.file), functions: r.functions, weight: r.weight }));
  if (files === undefined || files.length === 0) {
    for (const r of own) {
      if (!existsSync(r.file)) {
        throw new UserError(`reward file ${r.file} of the run (${join(runDir, 'config.json')}) not found; restore it, or name the reward files to score with --reward`);
      }
    }
    return own;
  }
  return files.map((f) => {
    const abs = resolve(root, f);
    if (!existsSync(abs)) throw new UserError(`--reward ${f}: file not found (looked at ${abs}); give the path of a reward file`);
    return own.find((r) => r.file === abs) ?? { file: abs };
  });
}

function datasetRow(rows: readonly PromptRow[], line: RolloutLine, dataset: string, file: string): PromptRow {
  const row = rows[line.row];
  if (!row) {
    throw new UserError(`${file}: group ${line.group} comes from dataset row ${line.row}, but ${dataset} has ${rows.length} rows now; restore the dataset the run was trained on`);
  }
  return row;
}

/** Reward weights changed while the run went, as its newest checkpoint holds them: what a resumed run would use. */
async function liveRewardWeights(runDir: string): Promise<Record<string, number>> {
  const newest = (await listCheckpoints(join(runDir, 'checkpoints'))).pop();
  if (!newest) return {};
  const state = JSON.parse(await readFile(join(newest.path, STATE_FILE), 'utf8')) as TrainerState;
  return state.live?.rewardWeights ?? {};
}
