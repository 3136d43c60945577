// What the reward CodeLenses of one run show, read from its folder: which reward files it uses
// and each function's figures in its latest iteration.
import { resolve } from 'node:path';
import type { MetricsLine } from '../../protocol/dashboard-messages';
import { RunFolder } from '../../run-folder/run-folder';
import { rewardStats, type RewardStat } from './reward-stats';

export interface LensData {
  runDir: string;
  /** Absolute paths of the run's reward files. */
  rewardFiles: string[];
  /** Function name -> figures; empty before the first iteration. */
  stats: Map<string, RewardStat>;
}

/**
 * `latest`: the newest metrics line when the caller has it (a live run's event), which spares
 * rereading metrics.jsonl, a file that grows with every iteration.
 */
export async function readLensData(runDir: string, latest?: MetricsLine): Promise<LensData> {
  const folder = new RunFolder(runDir);
  const config = await folder.config();
  latest ??= (await folder.metrics()).at(-1);
  const stats = latest ? rewardStats(latest, await folder.rewardFailuresOf(latest.iteration)) : new Map<string, RewardStat>();
  return { runDir, rewardFiles: config.rewards.map((r) => resolve(r.file)), stats };
}
