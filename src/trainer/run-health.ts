// Whether a run learns anything at all. GRPO learns only from differences within a group: when
// no reward function gives any sample a value, or every group's completions score alike, every
// advantage is 0 and the policy term of the loss is 0. One such iteration happens by chance (a
// hard batch); several in a row mean a broken reward, or a task the model cannot yet solve at
// all, which the user should hear about loudly rather than read off a flat curve hours later.
import type { TrainerEvent } from './events';

/** Iterations in a row without a learning signal before the alarm: chance rarely flattens five batches. */
export const NO_SIGNAL_STREAK = 5;

export type NoSignalAlarm = Extract<TrainerEvent, { type: 'no-learning-signal' }>;
type NoSignalReason = NoSignalAlarm['reason'];

/** Watches each iteration's rewards; raises one alarm per streak of NO_SIGNAL_STREAK. */
export class RunHealth {
  private streak = 0;
  private allFailed = true;

  /**
   * `total`: each completion's reward, NaN where no function gave it a value. `flatGroups`:
   * groups whose rewards do not vary (Advantages.zeroStdGroups), out of `groups`.
   */
  observe(iteration: number, total: Float64Array, flatGroups: number, groups: number): NoSignalAlarm | undefined {
    const failed = total.every(Number.isNaN);
    if (!failed && flatGroups < groups) {
      this.streak = 0;
      this.allFailed = true;
      return undefined;
    }
    this.streak++;
    this.allFailed &&= failed;
    if (this.streak !== NO_SIGNAL_STREAK) return undefined;
    const fromIteration = iteration - this.streak + 1;
    const reason: NoSignalReason = this.allFailed ? 'rewards-failed' : 'zero-variance';
    return { type: 'no-learning-signal', fromIteration, iteration, reason, message: alarmMessage(reason, fromIteration, iteration) };
  }
}

function alarmMessage(reason: NoSignalReason, from: number, to: number): string {
  const span = `iterations ${from}-${to}`;
  if (reason === 'rewards-failed') {
    return (
      `no learning signal in ${span}: no reward function gave any completion a value (each failed or returned null), so every advantage was 0. ` +
      'See reward-errors/ in the run folder for why, and fix the reward file: a saved edit takes effect at the next iteration'
    );
  }
  return (
    `no learning signal in ${span}: within every group all completions got the same reward, so every advantage was 0. ` +
    'Make the reward tell better completions from worse ones (partial credit), or raise group_size or temperature, or use easier prompts'
  );
}
