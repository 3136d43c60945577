// Export Model: a checkpoint's Hugging Face model folder copied out of the run, without the
// files only a resume needs. Copied into a temporary folder that is renamed into place last, so
// a failure or a cancel leaves no half-written model where the user asked for one.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../errors';
import { RESUME_ONLY_FILES, STATE_FILE } from '../trainer/checkpoint-files';


/** `<run>-iter-<N>`: which run and which iteration, readable in a file browser. */
export function exportFolderName(runName: string, iteration: number): string {
  return `${runName}-iter-${iteration}`;
}

/** The model folder's files in a complete checkpoint: config, weights, tokenizer and generation files. */
export async function modelFiles(checkpoint: string): Promise<string[]> {
  if (!existsSync(join(checkpoint, STATE_FILE))) {
    throw new UserError(`${checkpoint}: not a complete checkpoint (no ${STATE_FILE}); export an earlier checkpoint of the run`);
  }
  const files: string[] = [];
  for (const entry of await readdir(checkpoint, { withFileTypes: true })) {
    if (entry.isFile() && !RESUME_ONLY_FILES.has(entry.name)) files.push(entry.name);
  }
  return files.sort();
}

export interface ExportOptions {
  /** After each file: bytes copied so far, of `totalBytes`. */
  onProgress?(copiedBytes: number, totalBytes: number): void;
  /** Checked between files; an abort removes what was copied and throws an AbortError. */
  signal?: AbortSignal;
}

/**
 * Copies the model folder of `checkpoint` to `<destDir>/<name>` and returns that path. Refuses a
 * target that exists and is not an empty folder.
 */
export async function exportCheckpoint(checkpoint: string, destDir: string, name: string, options: ExportOptions = {}): Promise<string> {
  const files = await modelFiles(checkpoint);
  const target = join(destDir, name);
  const targetIsEmptyFolder = await checkTarget(target);
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(checkpoint, f))).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);

  const partial = join(destDir, `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    let copied = 0;
    for (const [i, f] of files.entries()) {
      options.signal?.throwIfAborted();
      await copyFile(join(checkpoint, f), join(partial, f));
      copied += sizes[i];
      options.onProgress?.(copied, totalBytes);
    }
    options.signal?.throwIfAborted();
    if (targetIsEmptyFolder) await rmdir(target); // rename cannot replace a folder on every platform
    await rename(partial, target);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
  return target;
}

/** Whether `target` is an empty folder (to be replaced); throws when it holds anything. */
async function checkTarget(target: string): Promise<boolean> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(target)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (!isFolder || (await readdir(target)).length > 0) {
    throw new UserError(`${target}: already exists and is not an empty folder; choose another destination, or move that ${isFolder ? 'folder' : 'file'} away first`);
  }
  return true;
}
