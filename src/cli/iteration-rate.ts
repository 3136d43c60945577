// How fast training goes, for the progress line: wall time per iteration as this process saw
// it (generation, rewards, update, and any evaluation or checkpoint between), so the time left
// it predicts is the time the user will wait.

/** Iterations the rate is averaged over: recent enough to follow a change, long enough to be steady. */
const WINDOW = 10;

export class IterationRate {
  private last: number | undefined;
  private readonly seconds: number[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The first iteration of this process begins (its time counts from here, not from loading). */
  start(): void {
    this.last ??= this.now();
  }

  /** An iteration ended. */
  tick(): void {
    const t = this.now();
    if (this.last !== undefined) this.seconds.push((t - this.last) / 1000);
    if (this.seconds.length > WINDOW) this.seconds.shift();
    this.last = t;
  }

  /** Mean seconds per iteration over the last WINDOW; undefined before the first ended. */
  get secondsPerIteration(): number | undefined {
    return this.seconds.length === 0 ? undefined : this.seconds.reduce((a, b) => a + b, 0) / this.seconds.length;
  }

  /** Seconds until `remaining` more iterations end at the current rate. */
  secondsLeft(remaining: number): number | undefined {
    const rate = this.secondsPerIteration;
    return rate === undefined ? undefined : rate * remaining;
  }
}

/** 42s, 9m47s, 2h05m. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
