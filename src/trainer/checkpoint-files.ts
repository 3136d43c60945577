// The files of a checkpoint folder (checkpoints/iter-N, written by ./checkpoint.ts) and which
// checkpoints are complete. No TF.js here: the extension host reads checkpoints through this
// module without loading the engine.
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** Written last into the checkpoint's temporary folder: its presence marks the checkpoint complete. */
export const STATE_FILE = 'trainer-state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const REFERENCE_FILE = 'reference.safetensors';

/**
 * The trl engine's checkpoints are TRL's (checkpoint-<step>): the HF Trainer writes
 * trainer_state.json after the weights, optimizer and RNG states, so it marks one complete.
 */
export const TRL_STATE_FILE = 'trainer_state.json';
/** What the trainer process adds to a TRL checkpoint: the live settings then in force. */
export const TRL_LIVE_SETTINGS_FILE = 'grpo-live-settings.json';

/** What a resume needs besides the Hugging Face model folder (ours, and the HF Trainer's). */
export const RESUME_ONLY_FILES: ReadonlySet<string> = new Set([
  STATE_FILE, OPTIMIZER_FILE, REFERENCE_FILE,
  TRL_STATE_FILE, TRL_LIVE_SETTINGS_FILE, 'optimizer.pt', 'scheduler.pt', 'rng_state.pth', 'training_args.bin', 'entropy_ctrl_state.json',
]);

/** Whether `checkpoint` (a folder) was saved whole, by either engine. */
export function isCompleteCheckpoint(checkpoint: string): boolean {
  return existsSync(join(checkpoint, STATE_FILE)) || existsSync(join(checkpoint, TRL_STATE_FILE));
}

/**
 * Complete checkpoints, oldest first. Partial folders of a killed save are ignored, and so is
 * anything that is not a real folder named iter-N directly in `dir` (checkpointPathProblem):
 * a resume or an export never reads weights from outside the run's checkpoints folder.
 */
export async function listCheckpoints(dir: string): Promise<{ iteration: number; path: string }[]> {
  if (!existsSync(dir)) return [];
  const out: { iteration: number; path: string }[] = [];
  for (const name of await readdir(dir)) {
    const m = /^iter-(\d+)$/.exec(name);
    if (m && !checkpointPathProblem(dir, join(dir, name)) && existsSync(join(dir, name, STATE_FILE))) out.push({ iteration: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.iteration - b.iteration);
}

/**
 * Why `checkpoint` is not a checkpoint folder of `checkpointsDir`, or undefined when it is. The
 * rule: its name is iter-N (N digits; TRL's checkpoint-N in a trl-engine run), it sits directly in the checkpoints folder, it is not a
 * symbolic link, and after resolving links it is still inside that folder's real path. The
 * checkpoints folder itself may be reached through a link (a runs folder moved to a bigger disk).
 */
export function checkpointPathProblem(checkpointsDir: string, checkpoint: string): string | undefined {
  const name = basename(checkpoint);
  if (!/^(iter|checkpoint)-\d+$/.test(name)) return `${checkpoint}: a checkpoint folder is named iter-N (checkpoint-N for a trl-engine run); pick one of the run's checkpoints`;
  if (resolve(dirname(checkpoint)) !== resolve(checkpointsDir)) return `${checkpoint}: not in the run's checkpoints folder ${checkpointsDir}; pick one of the run's checkpoints`;
  try {
    if (lstatSync(checkpoint).isSymbolicLink()) return `${checkpoint}: a symbolic link, not a checkpoint the run wrote; remove the link, or copy the folder in`;
    const real = realpathSync(checkpoint);
    const inside = relative(realpathSync(checkpointsDir), real);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return `${checkpoint}: resolves to ${real}, outside the run's checkpoints folder; pick one of the run's checkpoints`;
  } catch (e) {
    return `${checkpoint}: cannot be read (${(e as Error).message}); pick one of the run's checkpoints`;
  }
  return undefined;
}
