// An exported model folder is written into a temporary sibling that is renamed into place last,
// so a failure or a cancel leaves no half-written model where the user asked for one.
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../../errors';

/**
 * Makes `<destDir>/<name>` by filling an empty temporary folder with `fill`, then renaming it
 * into place; returns that path. Refuses a target that exists and is not an empty folder. An
 * abort of `signal` (checked after `fill`) or a throw from `fill` removes the temporary folder.
 */
export async function writeStaged(destDir: string, name: string, fill: (partial: string) => Promise<void>, signal?: AbortSignal): Promise<string> {
  const target = join(destDir, name);
  const targetIsEmptyFolder = await checkTarget(target);
  const partial = join(destDir, `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await fill(partial);
    signal?.throwIfAborted();
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
