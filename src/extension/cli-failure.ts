// The one line a user reads when a `grpo` command the extension ran as a child process failed.
import type { ExecFileException } from 'node:child_process';

/**
 * The CLI's own `grpo <command>: ...` (or bare `grpo: ...`) message where it printed one, else
 * what is known of the failure: the Node executable missing, or the end of stderr.
 */
export function cliFailureMessage(command: string, error: ExecFileException, stderr: string, node: string): string {
  if (error.code === 'ENOENT') return `cannot start ${node}: no such executable; fix the grpo.nodePath setting`;
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const own = new RegExp(`^grpo(?: ${command})?: (.*)$`);
  for (const line of lines) {
    const said = own.exec(line);
    if (said) return said[1];
  }
  return `grpo ${command} failed (${error.message.split('\n')[0]})${lines.length > 0 ? `: ${lines.slice(-5).join(' | ')}` : ''}`;
}
