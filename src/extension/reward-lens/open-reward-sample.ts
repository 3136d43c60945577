// The "best sample" / "worst sample" lenses: the completion of the run's latest rollout that a
// reward function scored highest (or lowest), opened as a completion document.
import { join } from 'node:path';
import { UserError } from '../../errors';
import { RunFolder } from '../../run-folder/run-folder';
import type { CompletionRef } from '../dashboard/dashboard-channel';
import { pickSample } from './sample-pick';

export interface RewardSampleArgs {
  runDir: string;
  fn: string;
  which: 'best' | 'worst';
}

export function isRewardSampleArgs(a: unknown): a is RewardSampleArgs {
  const x = a as Partial<RewardSampleArgs> | null;
  return typeof x === 'object' && x !== null && typeof x.runDir === 'string' && typeof x.fn === 'string' && (x.which === 'best' || x.which === 'worst');
}

/** Where that completion is; a UserError when the run has no rollouts or `fn` scored none. */
export async function rewardSample({ runDir, fn, which }: RewardSampleArgs): Promise<CompletionRef> {
  const folder = new RunFolder(runDir);
  const iteration = (await folder.rolloutIterations()).at(-1);
  const records = iteration === undefined ? undefined : await folder.records(iteration);
  if (iteration === undefined || !records) throw new UserError(`${join(runDir, 'rollouts')}: no rollouts yet; wait for the first iteration to finish`);
  const picked = pickSample(records, fn, which);
  if (!picked) throw new UserError(`${folder.rolloutsFile(iteration)}: reward function "${fn}" scored no completion of iteration ${iteration} (see reward-errors/ for why)`);
  return { runDir, iteration, ...picked };
}
