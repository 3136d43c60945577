// Every event of one trainer process (src/trainer-process/client.ts), and promises of the next ones.
import type { TrainerProcess, TrainerProcessEvent } from '../../src/trainer-process/client';

type EventOf<T extends TrainerProcessEvent['type']> = Extract<TrainerProcessEvent, { type: T }>;

export class Recorder {
  readonly events: TrainerProcessEvent[] = [];
  private waiting: { test: (e: TrainerProcessEvent) => boolean; resolve: (e: TrainerProcessEvent) => void }[] = [];

  constructor(trainer: TrainerProcess) {
    trainer.onEvent((e) => {
      this.events.push(e);
      for (const w of this.waiting.filter((w) => w.test(e))) w.resolve(e);
      this.waiting = this.waiting.filter((w) => !w.test(e));
    });
  }

  /** The first event from now on of this type (and passing `test`). */
  next<T extends TrainerProcessEvent['type']>(type: T, test: (e: EventOf<T>) => boolean = () => true, timeoutMs = 15_000): Promise<EventOf<T>> {
    const isIt = (e: TrainerProcessEvent): e is EventOf<T> => e.type === type;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms; got ${this.types().join(', ')}`)), timeoutMs);
      this.waiting.push({
        test: (e) => isIt(e) && test(e),
        resolve: (e) => {
          clearTimeout(timer);
          if (isIt(e)) resolve(e);
        },
      });
    });
  }

  of<T extends TrainerProcessEvent['type']>(type: T, from = 0): EventOf<T>[] {
    return this.events.slice(from).filter((e): e is EventOf<T> => e.type === type);
  }

  /** Event types in order, without the chatty generation progress. */
  types(from = 0): string[] {
    return this.events
      .slice(from)
      .map((e) => e.type)
      .filter((t) => t !== 'generation-progress');
  }
}
