import { readdirSync, statSync } from 'node:fs';
import { UserError } from '../errors';

/**
 * Checks the folder a command is about to write (init-model, sft): a file there, or a folder
 * that already holds something, is refused unless `force`, so a typo never overwrites a model.
 */
export function checkOutputFolder(flag: string, dir: string, force: boolean): void {
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    return; // a new folder
  }
  if (!stats.isDirectory()) throw new UserError(`--${flag} ${dir} is a file; give a folder path (it is created if it does not exist)`);
  if (readdirSync(dir).length > 0 && !force) throw new UserError(`--${flag} ${dir} is not empty; choose a new folder, or pass --force to write into it`);
}
