// Pause, one iteration, resume and stop, as both engines take them: commands arrive at any
// time and act at the next iteration boundary, where the trainer waits on this.
import type { TrainerEvent } from './events';

export class RunControl {
  private paused = false;
  private stopRequested = false;
  private singleSteps = 0;
  private wake: (() => void) | undefined;

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  /** While paused: run exactly one more iteration, then pause again. */
  step(): void {
    this.singleSteps++;
    this.wake?.();
  }
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  /**
   * At a boundary after `iteration`: waits while paused (telling `emit` once, and again when
   * it goes on). False when the run is to stop; a single step is used up here.
   */
  async boundary(iteration: number, emit: (e: TrainerEvent) => void): Promise<boolean> {
    let announced = false;
    while (this.paused && this.singleSteps === 0 && !this.stopRequested) {
      if (!announced) emit({ type: 'paused', iteration });
      announced = true;
      await new Promise<void>((r) => (this.wake = r));
    }
    if (this.stopRequested) return false;
    if (this.singleSteps > 0) this.singleSteps--;
    else if (announced) emit({ type: 'resumed', iteration });
    return true;
  }
}
