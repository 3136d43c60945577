// An iteration's rollouts as rescore needs them: the completions, where they came from, and
// what the run recorded for them (src/trainer/rollout-records.ts writes these lines).
import { join } from 'node:path';
import { UserError } from '../errors';
import type { RolloutRecord } from '../protocol/dashboard-messages';
import { RunFolder } from '../run-folder/run-folder';

/** What rescoring reads of a rollouts line: the completion, where it came from, what it scored. */
export type RolloutLine = Pick<RolloutRecord, 'group' | 'member' | 'row' | 'prompt' | 'completion' | 'completion_ids' | 'reward' | 'rewards' | 'advantage'>;

export interface IterationRollouts {
  iteration: number;
  file: string;
  /** Group after group, each of `groupSize` members in order: the layout advantages need. */
  lines: RolloutLine[];
}

/** The rollouts of `iteration`, or of the newest iteration that has them. */
export async function readIterationRollouts(runDir: string, groupSize: number, iteration?: number): Promise<IterationRollouts> {
  const folder = new RunFolder(runDir);
  const written = await folder.rolloutIterations();
  if (written.length === 0) {
    throw new UserError(`${join(runDir, 'rollouts')}: no rollouts yet; rescore needs a run that has completed at least one iteration`);
  }
  const chosen = iteration ?? written[written.length - 1];
  if (!written.includes(chosen)) {
    throw new UserError(`${runDir}: iteration ${chosen} has no rollouts file; choose --iteration from ${written.join(', ')}`);
  }
  const file = folder.rolloutsFile(chosen);
  const lines: RolloutLine[] | undefined = await folder.records(chosen);
  if (!lines) throw new UserError(`${file}: has no completions; choose another --iteration from ${written.join(', ')}`);
  lines.sort((a, b) => a.group - b.group || a.member - b.member);
  lines.forEach((l, i) => {
    const [group, member] = [Math.floor(i / groupSize), i % groupSize];
    if (l.group !== group || l.member !== member) {
      throw new UserError(
        `${file}: expected group ${group} member ${member} at position ${i + 1} (groups of group_size ${groupSize}), got group ${l.group} member ${l.member}; the file does not match the run's config.json`,
      );
    }
  });
  if (lines.length % groupSize !== 0) {
    throw new UserError(`${file}: ${lines.length} completions do not make whole groups of group_size ${groupSize}; the file does not match the run's config.json`);
  }
  return { iteration: chosen, file, lines };
}
