// The "best sample" / "worst sample" lenses: the completion of the run's latest rollout that a
// reward function scored highest (or lowest), opened as a completion document.
import { join } from 'node:path';
import { UserError } from '../../errors';
import { readJsonLines } from '../../run-folder/json-lines';
import { RunFolder } from '../../run-folder/run-folder';
import { iterName } from '../../trainer/run-dir';
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
  const iterations = await new RunFolder(runDir).rolloutIterations();
  const iteration = iterations[iterations.length - 1];
  if (iteration === undefined) throw new UserError(`${join(runDir, 'rollouts')}: no rollouts yet; wait for the first iteration to finish`);
  const file = join(runDir, 'rollouts', `${iterName(iteration)}.jsonl`);
  const picked = pickSample(await readJsonLines(file), fn, which);
  if (!picked) throw new UserError(`${file}: reward function "${fn}" scored no completion of iteration ${iteration} (see reward-errors/ for why)`);
  return { runDir, iteration, ...picked };
}
