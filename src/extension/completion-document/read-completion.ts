// One completion of a run folder, as a completion document.
import { UserError } from '../../errors';
import { RunFolder, type DecodeToken } from '../../run-folder/run-folder';
import type { CompletionRef } from '../dashboard/dashboard-channel';
import { completionDocument, type CompletionDocument } from './completion-text';

/** Reads rollouts/iter-N.jsonl; a UserError naming the file when it or the completion is missing. */
export async function readCompletionDocument(ref: CompletionRef, decodeToken: DecodeToken): Promise<CompletionDocument> {
  const folder = new RunFolder(ref.runDir);
  const file = folder.rolloutsFile(ref.iteration);
  const completions = await folder.rollouts(ref.iteration, decodeToken);
  if (!completions) throw new UserError(`${file}: not found or empty; iteration ${ref.iteration} has no rollouts in this run folder (was it moved, or cut back by a resume?)`);
  const completion = completions.find((c) => c.group === ref.group && c.member === ref.member);
  if (!completion) {
    const groups = new Set(completions.map((c) => c.group)).size;
    throw new UserError(`${file}: no completion for group ${ref.group}, member ${ref.member} (the file holds ${completions.length} completions in ${groups} groups); reopen it from the run's dashboard`);
  }
  return completionDocument(ref, completion);
}
