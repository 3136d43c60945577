// Which grpo.config.json a command trains with: the `grpo.configFile` setting, else the
// workspace's own config files, the shallowest first.
import { isAbsolute, relative, resolve, sep } from 'node:path';

export const CONFIG_FILE_NAME = 'grpo.config.json';

/** The `grpo.configFile` setting as an absolute path (relative to the first folder), or undefined when unset. */
export function configFromSetting(setting: string, folders: readonly string[]): string | undefined {
  if (setting === '') return undefined;
  if (isAbsolute(setting)) return setting;
  return folders.length > 0 ? resolve(folders[0], setting) : undefined;
}

/**
 * Config files found in the workspace, shallowest first, then by name; copies inside run
 * folders (.grpo) and installed packages (node_modules) left out.
 */
export function orderConfigCandidates(found: readonly string[], folders: readonly string[]): string[] {
  const depth = (file: string) => {
    const root = folders.find((f) => !relative(f, file).startsWith('..'));
    return root === undefined ? Infinity : relative(root, file).split(sep).length;
  };
  return found
    .filter((f) => !f.split(sep).includes('.grpo') && !f.split(sep).includes('node_modules'))
    .sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
}
