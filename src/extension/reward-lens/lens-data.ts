// What the reward CodeLenses of one run show, read from its folder: which reward files it uses
// and each function's figures in its latest iteration.
import { resolve } from 'node:path';
import { RunFolder } from '../../run-folder/run-folder';
import { rewardStats, type RewardStat } from './reward-stats';

export interface LensData {
  runDir: string;
  /** Absolute paths of the run's reward files. */
  rewardFiles: string[];
  /** Function name -> figures; empty before the first iteration. */
  stats: Map<string, RewardStat>;
}

export async function readLensData(runDir: string): Promise<LensData> {
  const folder = new RunFolder(runDir);
  const config = await folder.config();
  const metrics = await folder.metrics();
  const latest = metrics[metrics.length - 1];
  const stats = latest ? rewardStats(latest, await folder.rewardFailuresOf(latest.iteration)) : new Map<string, RewardStat>();
  return { runDir, rewardFiles: config.rewards.map((r) => resolve(r.file)), stats };
}
