// Which exports of a loaded reward file are the rewards a spec asked for, and why not.

import { isAbsolute } from 'node:path';
import type { CompileProblem } from './compile';
import { workspaceRelative } from './compile';
import type { ExportedReward, LoadedFile } from './protocol';

/** The first stack frame's file:line:column, relative to the workspace; the reward file itself when there is none. */
function locate(workspaceRoot: string, file: string, stack: string | undefined): Pick<CompileProblem, 'file' | 'line' | 'column'> {
  const m = /\(?([^\s()]+):(\d+):(\d+)\)?$/m.exec(stack ?? '');
  if (!m || !isAbsolute(m[1])) return { file, line: 0, column: 0 };
  return { file: workspaceRelative(workspaceRoot, m[1]), line: Number(m[2]), column: Number(m[3]) };
}

export type Selection = { ok: true; rewards: ExportedReward[] } | { ok: false; problem: CompileProblem };

/** The rewards named by `functions` (every exported one when absent) of a file as the worker loaded it. */
export function selectRewards(workspaceRoot: string, file: string, loaded: LoadedFile, functions: readonly string[] | undefined): Selection {
  if (!loaded.ok) {
    return { ok: false, problem: { ...locate(workspaceRoot, file, loaded.stack), message: `throws while loading: ${loaded.message}` } };
  }
  const fail = (message: string): Selection => ({ ok: false, problem: { file, line: 0, column: 0, message } });
  if (loaded.rewards.length === 0) {
    return fail('exports no reward function: export a function (sample, ctx) => number, or batched((samples, ctx) => numbers)');
  }
  if (!functions) return { ok: true, rewards: loaded.rewards };
  const exported = loaded.rewards.map((r) => r.name);
  const missing = functions.filter((name) => !exported.includes(name));
  if (missing.length > 0) {
    return fail(`has no exported reward function ${missing.map((n) => `"${n}"`).join(', ')} (it exports: ${exported.join(', ')})`);
  }
  return { ok: true, rewards: loaded.rewards.filter((r) => functions.includes(r.name)) };
}

/** A reward function name exported by two files, as a message; names must be unique for weights and metrics. */
export function duplicateName(files: readonly { file: string; rewards: readonly ExportedReward[] }[]): string | undefined {
  const owner = new Map<string, string>();
  for (const f of files) {
    for (const r of f.rewards) {
      const other = owner.get(r.name);
      if (other !== undefined) return `reward function "${r.name}" is exported by both ${other} and ${f.file}`;
      owner.set(r.name, f.file);
    }
  }
  return undefined;
}
