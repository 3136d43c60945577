// What the CLI and the trainer process drive: a run of GRPO Studio's own engine (Trainer) or
// of TRL's (TrlTrainer), chosen by the config's engine. Both write the same run folder and
// send the same events, so every front end works on either.
import type { TrainingConfig } from './config';
import type { LiveSettings } from './live-settings';
import type { TrainerListener } from './events';
import type { RunDir } from './run-dir';

export interface TrainingRun {
  readonly config: TrainingConfig;
  readonly run: RunDir;
  on(listener: TrainerListener): () => void;
  pause(): void;
  resume(): void;
  step(): void;
  stop(): void;
  setLive(change: LiveSettings): void;
  /** Only between iterations (paused). */
  saveCheckpoint(): Promise<string>;
  train(): Promise<void>;
  close(): Promise<void>;
}

export interface TrainingRunOptions {
  workspaceRoot: string;
  resumeRunDir?: string;
  /** The Python of the trl engine (--python, grpo.pythonPath); default GRPO_PYTHON, else python3. */
  python?: string;
}

export async function createTrainingRun(config: TrainingConfig, opts: TrainingRunOptions): Promise<TrainingRun> {
  if (config.engine === 'trl') {
    const { TrlTrainer } = await import('../trl/trl-trainer');
    return TrlTrainer.create(config, opts);
  }
  const { Trainer } = await import('./trainer');
  return Trainer.create(config, opts);
}
