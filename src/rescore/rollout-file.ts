// An iteration's rollouts as rescore needs them: the completions, where they came from, and
// what the run recorded for them (src/trainer/rollout-records.ts writes these lines).
import { join } from 'node:path';
import { UserError } from '../errors';
import { dict, finite, integer, list, nullable, object, text, type Infer } from '../protocol/shape';
import { readJsonLines } from '../run-folder/json-lines';
import { RunFolder } from '../run-folder/run-folder';
import { iterName } from '../trainer/run-dir';

const recorded = nullable(finite());

const rolloutLine = object({
  group: integer,
  member: integer,
  row: integer,
  prompt: text,
  completion: text,
  completion_ids: list(integer),
  reward: recorded,
  rewards: dict(recorded),
  advantage: recorded,
});
export type RolloutLine = Infer<typeof rolloutLine>;

export interface IterationRollouts {
  iteration: number;
  file: string;
  /** Group after group, each of `groupSize` members in order: the layout advantages need. */
  lines: RolloutLine[];
}

/** The rollouts of `iteration`, or of the newest iteration that has them. */
export async function readIterationRollouts(runDir: string, groupSize: number, iteration?: number): Promise<IterationRollouts> {
  const written = await new RunFolder(runDir).rolloutIterations();
  if (written.length === 0) {
    throw new UserError(`${join(runDir, 'rollouts')}: no rollouts yet; rescore needs a run that has completed at least one iteration`);
  }
  const chosen = iteration ?? written[written.length - 1];
  if (!written.includes(chosen)) {
    throw new UserError(`${runDir}: iteration ${chosen} has no rollouts file; choose --iteration from ${written.join(', ')}`);
  }
  const file = join(runDir, 'rollouts', `${iterName(chosen)}.jsonl`);
  const lines = (await readJsonLines(file)).map((v, i) => {
    const problem = rolloutLine.check(v, `line ${i + 1}`);
    if (problem) throw new UserError(`${file}: ${problem}; the file was not written by this version of GRPO Studio or was edited by hand`);
    return v as RolloutLine;
  });
  if (lines.length === 0) throw new UserError(`${file}: has no completions; choose another --iteration from ${written.join(', ')}`);
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
