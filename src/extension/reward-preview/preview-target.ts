// Which run a reward preview scores, and with which reward files. No `vscode` here.
import { basename, resolve } from 'node:path';

/** The live session's run, else the newest of `runDirs` (run ids are timestamps). */
export function chooseRunDir(liveRunDir: string | undefined, runDirs: readonly string[]): string | undefined {
  if (liveRunDir) return liveRunDir;
  return [...runDirs].sort((a, b) => basename(a).localeCompare(basename(b)) || a.localeCompare(b)).pop();
}

/**
 * The `--reward` files for previewing `file`: none (the run's own) when the run already scores
 * with it; otherwise the run's files plus it, to see what adding it would change.
 */
export function rewardFilesFor(file: string | undefined, runRewardFiles: readonly string[]): string[] | undefined {
  if (file === undefined) return undefined;
  const abs = resolve(file);
  const own = runRewardFiles.map((f) => resolve(f));
  return own.includes(abs) ? undefined : [...own, abs];
}

/** Where a reward problem message points, "path:line:column: ...", resolved from `cwd`. */
export function problemLocation(message: string, cwd: string): { file: string; line: number; column: number } | undefined {
  const m = /^(.+?\.[cm]?[jt]sx?):(\d+):(\d+): /.exec(message);
  if (!m) return undefined;
  return { file: resolve(cwd, m[1]), line: Number(m[2]), column: Number(m[3]) };
}
