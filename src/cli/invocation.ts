import { basename, isAbsolute, relative } from 'node:path';

/**
 * How the user started grpo, so a command printed back to them (the resume command) runs as
 * typed: `grpo` when it came from the PATH (npm link, a global install), else `node <script>`.
 */
export function grpoInvocation(script: string = process.argv[1] ?? 'grpo', cwd: string = process.cwd()): string {
  return basename(script) === 'grpo' ? 'grpo' : `node ${shellWord(displayPath(script, cwd))}`;
}

/** A path as short as it can be while still working from the current folder. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** `word` as a POSIX shell reads it back: quoted when it holds anything but plain path characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
