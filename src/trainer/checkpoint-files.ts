// The files of a checkpoint folder (checkpoints/iter-N, written by ./checkpoint.ts) and which
// checkpoints are complete. No TF.js here: the extension host reads checkpoints through this
// module without loading the engine.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Written last into the checkpoint's temporary folder: its presence marks the checkpoint complete. */
export const STATE_FILE = 'trainer-state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const REFERENCE_FILE = 'reference.safetensors';

/** What a resume needs besides the Hugging Face model folder that saveModel writes. */
export const RESUME_ONLY_FILES: ReadonlySet<string> = new Set([STATE_FILE, OPTIMIZER_FILE, REFERENCE_FILE]);

/** Complete checkpoints, oldest first. Partial folders of a killed save are ignored. */
export async function listCheckpoints(dir: string): Promise<{ iteration: number; path: string }[]> {
  if (!existsSync(dir)) return [];
  const out: { iteration: number; path: string }[] = [];
  for (const name of await readdir(dir)) {
    const m = /^iter-(\d+)$/.exec(name);
    if (m && existsSync(join(dir, name, STATE_FILE))) out.push({ iteration: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.iteration - b.iteration);
}
