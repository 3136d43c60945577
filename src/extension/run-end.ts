// What the user is told when the trainer process ends.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessEnd } from '../trainer-process/client';
import type { TrainingStatus } from './training-status';

export interface EndReport {
  severity: 'info' | 'error';
  message: string;
  /** The run's log.txt, where there is one to open. */
  logFile?: string;
}

/** `status`: the run as last seen, with the run folder if the trainer got that far. */
export function reportEnd(end: ProcessEnd, status: TrainingStatus, exists: (f: string) => boolean = existsSync): EndReport {
  const { runDir } = status;
  const runLog = runDir === undefined ? undefined : join(runDir, 'log.txt');
  const logFile = end.type === 'crashed' && end.fatal?.logFile !== undefined ? end.fatal.logFile : runLog;
  const found = logFile !== undefined && exists(logFile) ? logFile : undefined;
  if (end.type === 'exited') {
    const how = end.forced
      ? `ended by force (${end.signal}) after it did not stop in time`
      : status.finished === 'completed'
        ? `completed ${status.iteration} iterations`
        : `stopped after iteration ${status.iteration}`;
    return { severity: 'info', message: `GRPO: training ${how}.${runDir ? ` Run folder: ${runDir}` : ''}`, logFile: found };
  }
  const lastLine = end.stderrTail.split('\n').filter((l) => l.trim() !== '').pop();
  const why = end.fatal?.message ?? lastLine ?? (end.signal ? `killed by ${end.signal}` : `exit code ${end.code}`);
  return { severity: 'error', message: `GRPO: the trainer ${end.fatal?.userError ? 'stopped' : 'crashed'}: ${why}`, logFile: found };
}
