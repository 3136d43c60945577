import { assert } from '../errors';
import type { TrainingConfig } from './config';

type ScheduleSettings = Pick<TrainingConfig, 'learning_rate' | 'warmup_iterations' | 'lr_schedule' | 'num_iterations'>;

/**
 * The learning rate for iteration `iteration`, counted from 1 as the logs show it.
 * With W = warmup_iterations, N = num_iterations, lr = learning_rate:
 *   n <= W:  lr * n / W  (the first iteration already moves; it does not waste a rollout at 0)
 *   n >  W:  p = (n - W - 1) / (N - W), in [0, 1): the first iteration after warmup gets lr, and
 *            constant: lr;  linear: lr * (1 - p);  cosine: lr * (1 + cos(pi p)) / 2
 * so a decaying rate would reach 0 at iteration N + 1, which never runs. Past N (a run
 * extended on resume) a decaying rate stays at 0.
 */
export function learningRateAt(config: ScheduleSettings, iteration: number): number {
  assert(Number.isInteger(iteration) && iteration >= 1, `learning-rate iteration must be an integer >= 1, got ${iteration}`);
  const { learning_rate: lr, warmup_iterations: warmup, num_iterations: total, lr_schedule: schedule } = config;
  if (iteration <= warmup) return (lr * iteration) / warmup;
  const decaySpan = total - warmup;
  const progress = decaySpan > 0 ? Math.min(1, (iteration - warmup - 1) / decaySpan) : 1;
  switch (schedule) {
    case 'constant':
      return lr;
    case 'linear':
      return lr * (1 - progress);
    case 'cosine':
      return (lr * (1 + Math.cos(Math.PI * progress))) / 2;
  }
}
