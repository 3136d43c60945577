// The reward workers of a run, as both engines start them.
import { RewardRunner } from '../rewards/runner';
import type { TrainingConfig } from './config';

/** Where a run's reward code may act: its imports resolve in the workspace; a resumed run's folder may lie elsewhere. */
export interface RewardPlaces {
  workspaceRoot: string;
  resumeRunDir?: string;
}

export async function startRewards(config: TrainingConfig, { workspaceRoot, resumeRunDir }: RewardPlaces): Promise<RewardRunner> {
  // A file's weight applies to each of its functions, including ones a reload adds.
  return RewardRunner.start(
    config.rewards.map((r) => ({ file: r.file, functions: r.functions, weight: r.weight })),
    // Reward code may write in the workspace and the runs folder, which holds this run's folder
    // (a resumed run's folder may have moved out of it).
    {
      workspaceRoot,
      timeoutMs: config.reward_timeout_ms,
      writable: [config.output_dir, ...(resumeRunDir ? [resumeRunDir] : [])],
      childProcesses: config.reward_child_processes,
    },
  );
}
