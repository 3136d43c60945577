// What both engines' trainers share as front ends see them: listeners of their events, and
// pause, one iteration, resume and stop, which arrive at any time and act at the next
// iteration boundary, where the trainer waits in waitAtBoundary().
import type { TrainerEvent, TrainerListener } from './events';
import type { RunDir } from './run-dir';

export abstract class ControlledRun {
  abstract readonly run: RunDir;
  private listeners: TrainerListener[] = [];
  private paused = false;
  private stopRequested = false;
  private singleSteps = 0;
  private wake: (() => void) | undefined;

  on(listener: TrainerListener): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

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

  protected emit(event: TrainerEvent): void {
    for (const l of this.listeners) l(event);
    // A disk that refuses this line refuses the iteration's own writes too, which report it.
    if (event.type === 'warning' || event.type === 'error' || event.type === 'no-learning-signal') this.run.log(`${event.type}: ${event.message}`).catch(() => undefined);
  }

  /**
   * At a boundary after `iteration`: waits while paused (saying so once, and again when it
   * goes on). False when the run is to stop; a single step is used up here.
   */
  protected async waitAtBoundary(iteration: number): Promise<boolean> {
    let announced = false;
    while (this.paused && this.singleSteps === 0 && !this.stopRequested) {
      if (!announced) this.emit({ type: 'paused', iteration });
      announced = true;
      await new Promise<void>((r) => (this.wake = r));
    }
    if (this.stopRequested) return false;
    if (this.singleSteps > 0) this.singleSteps--;
    else if (announced) this.emit({ type: 'resumed', iteration });
    return true;
  }
}
