// The trainer's log lines, its printed output and its notices, in the "GRPO Studio" channel.
import type * as vscode from 'vscode';
import type { TrainerProcessEvent } from '../trainer-process/client';

export function logLine(e: TrainerProcessEvent): string | undefined {
  switch (e.type) {
    case 'log':
      return e.line;
    case 'output':
      return e.stream === 'stderr' ? `[stderr] ${e.line}` : e.line;
    case 'ready':
      return `trainer process ${e.pid} ready (Node ${e.node})`;
    case 'run-started':
      return `run ${e.runDir}: model ${e.model}, backend ${e.backend}${e.resumedFrom !== undefined ? `, resuming after iteration ${e.resumedFrom}` : ''}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'no-learning-signal':
      return `warning: ${e.message}; training is paused`;
    case 'error':
      return `error: ${e.message}`;
    case 'command-rejected':
      return `command ${e.command} rejected: ${e.reason}`;
    case 'protocol-error':
      return `dropped a malformed message from the trainer: ${e.reason}`;
    case 'reward-reload-failed':
      return `reward ${e.file}${e.line !== undefined ? `:${e.line}:${e.column ?? 0}` : ''} does not compile, keeping the last good version: ${e.message}`;
    case 'checkpoint-saved':
      return `checkpoint ${e.path}`;
    case 'fatal':
      return `fatal: ${e.message}${e.stack ? `\n${e.stack}` : ''}`;
    case 'finished':
      return `${e.reason} after iteration ${e.iteration}; run folder ${e.runDir}`;
    case 'exited':
      return `trainer process exited${e.forced ? ` by force (${e.signal})` : ''}`;
    case 'crashed':
      return `trainer process crashed (${e.signal ?? `exit code ${e.code}`})`;
    default:
      return undefined;
  }
}

export function logTrainerEvent(output: vscode.OutputChannel, e: TrainerProcessEvent): void {
  const line = logLine(e);
  if (line !== undefined) output.appendLine(line);
}
