// What the status-bar item says while training runs, folded from the trainer's events.
import type { TrainerProcessEvent } from '../trainer-process/client';

export interface TrainingStatus {
  /** The iteration running or last started; 0 before the first. */
  iteration: number;
  total: number;
  /** Mean reward of the latest scored iteration. */
  meanReward?: number;
  paused: boolean;
  stopping: boolean;
  /** The run folder, once the trainer has made it. */
  runDir?: string;
  /** How the run ended, once the trainer has said. */
  finished?: 'completed' | 'stopped' | 'failed';
}

export function initialStatus(total: number): TrainingStatus {
  return { iteration: 0, total, paused: false, stopping: false };
}

export function nextStatus(s: TrainingStatus, e: TrainerProcessEvent): TrainingStatus {
  switch (e.type) {
    case 'run-started':
      return { ...s, runDir: e.runDir, iteration: e.resumedFrom ?? s.iteration };
    case 'iteration-started':
      return { ...s, iteration: e.iteration };
    case 'rewards-scored':
      return { ...s, meanReward: e.mean };
    case 'paused':
      return { ...s, paused: true };
    case 'resumed':
      return { ...s, paused: false };
    case 'finished':
      return { ...s, iteration: e.iteration, finished: e.reason, runDir: e.runDir };
    default:
      return s;
  }
}

/** The status-bar text, with a codicon: `$(pulse) GRPO 12/100 · reward 0.412`. */
export function statusText(s: TrainingStatus): string {
  const icon = s.stopping ? '$(loading~spin)' : s.paused ? '$(debug-pause)' : '$(pulse)';
  const state = s.stopping ? ' stopping' : s.paused ? ' paused' : '';
  const progress = s.iteration === 0 ? 'starting' : `${s.iteration}/${s.total}`;
  const reward = s.meanReward === undefined ? '' : ` · reward ${Number.isFinite(s.meanReward) ? s.meanReward.toFixed(3) : String(s.meanReward)}`;
  return `${icon} GRPO ${progress}${state}${reward}`;
}
