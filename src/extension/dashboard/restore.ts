import { basename } from 'node:path';

/** The panel title; VS Code keeps it across a reload, which lets the serializer find the run again. */
export function dashboardTitle(runDir: string): string {
  return `GRPO · ${basename(runDir)}`;
}

/** How many run folders the host remembers for restoring dashboards after a reload. */
export const REMEMBERED_RUNS = 20;

/** `runDir` first in the remembered list, without duplicates, at most REMEMBERED_RUNS long. */
export function rememberRun(remembered: readonly string[], runDir: string): string[] {
  return [runDir, ...remembered.filter((r) => r !== runDir)].slice(0, REMEMBERED_RUNS);
}

/**
 * The run folder of a panel being restored. The webview's saved state holds only its view
 * (picked iteration, colouring) unless it adds `runDir`; otherwise the restored title names
 * the run folder, which is looked up among the folders the host remembers (newest first).
 * Either way the result is one of `remembered`.
 */
export function restoredRunDir(title: string, state: unknown, remembered: readonly string[]): string | undefined {
  const saved = (state as { runDir?: unknown } | undefined)?.runDir;
  // The saved state is written by the page, so it is a hint, not a path to trust: only a run
  // folder the host itself remembered opening is restored.
  if (typeof saved === 'string' && remembered.includes(saved)) return saved;
  return remembered.find((r) => dashboardTitle(r) === title);
}
