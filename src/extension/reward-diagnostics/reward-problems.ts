// The reward-file problems the trainer reported and has not seen fixed, folded from its events
// for the Problems panel. A problem is kept under the reward file it blocks, so the reload that
// fixes it clears it even when it sat in a file the reward file imports.
import { resolve } from 'node:path';
import type { TrainerProcessEvent } from '../../trainer-process/client';

export interface RewardProblem {
  /** Absolute path of the file the problem is in. */
  file: string;
  /** 0-based, as editors address text; 0 when the trainer gave no location. */
  line: number;
  character: number;
  message: string;
  /** reload: training goes on with the last good version; start: the run did not start. */
  during: 'reload' | 'start';
}

/** Absolute reward file -> its problem. */
export type RewardProblems = ReadonlyMap<string, RewardProblem>;

export const noRewardProblems: RewardProblems = new Map();

/**
 * The problems after `event` of a session whose reward files are named from `workspaceRoot`;
 * the same map when the event changes nothing. A reload problem lasts until that reward file
 * reloads or the session ends (then no last good version is in use, and nothing would clear
 * it); a start problem outlives the session, until the next start compiles the file again.
 */
export function nextRewardProblems(problems: RewardProblems, event: TrainerProcessEvent, workspaceRoot: string): RewardProblems {
  switch (event.type) {
    case 'reward-reload-failed': {
      const rewardFile = event.rewardFile ?? event.file;
      const problem: RewardProblem = {
        file: resolve(workspaceRoot, event.file),
        ...position(event.line, event.column),
        message: `${event.message} (training keeps the last good version of ${rewardFile} until this is fixed)`,
        during: 'reload',
      };
      return new Map(problems).set(resolve(workspaceRoot, rewardFile), problem);
    }
    case 'reward-reloaded': {
      const key = resolve(workspaceRoot, event.file);
      if (!problems.has(key)) return problems;
      const next = new Map(problems);
      next.delete(key);
      return next;
    }
    case 'fatal': {
      const p = event.rewardProblem;
      if (!p) return problems;
      const file = resolve(workspaceRoot, p.file);
      const problem: RewardProblem = { file, ...position(p.line, p.column), message: `${p.message} (training did not start: fix this and start again)`, during: 'start' };
      return new Map(problems).set(file, problem);
    }
    case 'exited':
    case 'crashed': {
      const kept = [...problems].filter(([, p]) => p.during === 'start');
      return kept.length === problems.size ? problems : new Map(kept);
    }
    default:
      return problems;
  }
}

/** 1-based line and column (0: unknown) as a 0-based position. */
function position(line: number | undefined, column: number | undefined): { line: number; character: number } {
  return { line: Math.max(0, (line ?? 0) - 1), character: Math.max(0, (column ?? 0) - 1) };
}

/** The problems grouped by the file they are in, for one diagnostics call per file. */
export function problemsByFile(problems: RewardProblems): Map<string, RewardProblem[]> {
  const byFile = new Map<string, RewardProblem[]>();
  for (const p of problems.values()) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
  return byFile;
}
