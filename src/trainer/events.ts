import type { AdapterInfo } from './adapter-info';
import type { RewardCallError } from '../rewards/scores';

/** What the trainer tells its front ends (the CLI now, the VS Code extension next). */
export type TrainerEvent =
  | { type: 'run-started'; runDir: string; backend: string; model: string; parameters: number; resumedFrom?: number; adapter?: AdapterInfo }
  | { type: 'iteration-started'; iteration: number; learningRate: number }
  | { type: 'generation-progress'; iteration: number; step: number; maxNewTokens: number }
  | { type: 'rollout-ready'; iteration: number; completions: number; generateSeconds: number }
  | { type: 'rewards-scored'; iteration: number; mean: number; std: number; failed: { fn: string; errors: RewardCallError[] }[] }
  | { type: 'metrics'; iteration: number; metrics: IterationMetrics }
  | { type: 'checkpoint-saved'; iteration: number; path: string }
  | { type: 'evaluation'; iteration: number; prompts: number; reward: number; rewards: Record<string, number>; failures: Record<string, number>; seconds: number }
  /** `file` scores with `version` now; also sent when a file with a reported problem is back at the version in use. */
  | { type: 'reward-reloaded'; file: string; version: string }
  /**
   * `rewardFile` keeps its last good version. `file` is where the problem is (the reward file or
   * a file it imports); line and column are 1-based, 0 when unknown.
   */
  | { type: 'reward-reload-failed'; file: string; message: string; line?: number; column?: number; rewardFile?: string }
  | { type: 'paused'; iteration: number }
  | { type: 'resumed'; iteration: number }
  | { type: 'warning'; message: string }
  /**
   * Iterations fromIteration..iteration (NO_SIGNAL_STREAK of them, ./run-health) taught nothing:
   * no reward gave any value (rewards-failed), or no group's rewards varied (zero-variance).
   */
  | { type: 'no-learning-signal'; fromIteration: number; iteration: number; reason: 'rewards-failed' | 'zero-variance'; message: string }
  | { type: 'error'; message: string }
  | { type: 'finished'; iteration: number; reason: 'completed' | 'stopped' | 'failed'; runDir: string };

/** One line of metrics.jsonl. Names follow TRL's GRPO trainer where the concept is the same. */
export type IterationMetrics = Record<string, number | string | Record<string, string>>;

export type TrainerListener = (event: TrainerEvent) => void;
