// The Runs view's elements. Context-menu commands receive them as their argument, so each
// command narrows what it was given with the guards here.
import type { CheckpointEntry, RunSummary } from './run-list';

/** TreeItem.contextValue of items that have context-menu commands; package.json's menus match them. */
export const RUN_VIEW_CONTEXT = { run: 'grpoRun', checkpoint: 'grpoCheckpoint' } as const;

export type RunNode =
  | { kind: 'run'; run: RunSummary; training: boolean }
  | { kind: 'dashboard'; runDir: string }
  | { kind: 'log'; runDir: string }
  | { kind: 'checkpoint'; checkpoint: CheckpointEntry };

/** The children of a run: its dashboard, its log when written, then its checkpoints, newest first. */
export function runChildren(run: RunSummary): RunNode[] {
  return [
    { kind: 'dashboard', runDir: run.path },
    ...(run.hasLog ? [{ kind: 'log' as const, runDir: run.path }] : []),
    ...run.checkpoints.map((checkpoint) => ({ kind: 'checkpoint' as const, checkpoint })),
  ];
}

/** The run folder a command was invoked on: a run node, one of its items, or a path. */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as Partial<RunNode> | undefined;
  if (node?.kind === 'run') return node.run?.path;
  if (node?.kind === 'dashboard' || node?.kind === 'log') return node.runDir;
  if (node?.kind === 'checkpoint') return node.checkpoint?.runDir;
  return undefined;
}

/** The checkpoint a command was invoked on, if it was invoked on one. */
export function checkpointOf(arg: unknown): CheckpointEntry | undefined {
  const node = arg as Partial<RunNode> | undefined;
  return node?.kind === 'checkpoint' ? node.checkpoint : undefined;
}
