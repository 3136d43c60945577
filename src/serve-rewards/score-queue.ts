// Serves scoring requests one batch at a time: the runner scores one call at a time, and its
// reward files are reloaded between calls, never during one. Requests that may share a call
// (OpenRLHF's, one small batch each) are scored together, which keeps every worker lane busy
// instead of one sample per call.
import type { ReloadReport, RewardRunner, ScoreInput } from '../rewards/runner';
import type { RewardScores } from '../rewards/scores';
import { RequestError } from './request-error';

/**
 * The most samples of merged requests in one call. It bounds how long the first of them waits,
 * and how far the runner's skip (a function that times out 3 times in a call is not called
 * again in it) reaches into other requests.
 */
const MAX_MERGED_SAMPLES = 1024;

export interface ScoreJob {
  samples: ScoreInput[];
  iteration: number;
  /**
   * Whether the samples may be scored in one call with other requests'. Off for requests that
   * are a batch of their own (a batched reward sees exactly them) or that read logs and metrics,
   * which belong to a call and cannot be split by request.
   */
  mergeable: boolean;
}

interface Waiting extends ScoreJob {
  resolve: (scores: RewardScores) => void;
  reject: (e: unknown) => void;
}

export class ScoreQueue {
  private readonly waiting: Waiting[] = [];
  /** Set and cleared inside drain itself, so a request arriving as it ends starts the next. */
  private draining = false;
  private running?: Promise<void>;
  private closed = false;

  constructor(
    private readonly runner: RewardRunner,
    private readonly onReload: (report: ReloadReport) => void,
  ) {}

  /** Requests not yet being scored. */
  get length(): number {
    return this.waiting.length;
  }

  /** The scores of `job.samples`, in order, with error indices into them. */
  score(job: ScoreJob): Promise<RewardScores> {
    if (this.closed) return Promise.reject(shuttingDown());
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...job, resolve, reject });
      if (!this.draining) this.running = this.drain();
    });
  }

  /** Refuses what waits, lets the call in progress finish, and resolves when the runner is idle. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(shuttingDown());
    await this.running;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) await this.scoreBatch(this.takeBatch());
    } finally {
      this.draining = false;
    }
  }

  private async scoreBatch(batch: Waiting[]): Promise<void> {
    try {
      this.onReload(await this.runner.reload());
      const scores = await this.runner.score(batch.flatMap((w) => w.samples), batch[0].iteration);
      let start = 0;
      for (const w of batch) {
        w.resolve(batch.length === 1 ? scores : sliceScores(scores, start, w.samples.length));
        start += w.samples.length;
      }
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
  }

  /** The first waiting request, with the mergeable ones of the same iteration right behind it. */
  private takeBatch(): Waiting[] {
    const first = this.waiting[0];
    let n = 1;
    let samples = first.samples.length;
    while (first.mergeable && n < this.waiting.length) {
      const next = this.waiting[n];
      if (!next.mergeable || next.iteration !== first.iteration || samples + next.samples.length > MAX_MERGED_SAMPLES) break;
      samples += next.samples.length;
      n++;
    }
    return this.waiting.splice(0, n);
  }
}

/**
 * Samples [start, start + count) of merged scores, error indices renumbered from 0. Logs and
 * metrics stay behind: they belong to the call, not to one request.
 */
export function sliceScores(scores: RewardScores, start: number, count: number): RewardScores {
  const end = start + count;
  return {
    functions: scores.functions.map((f) => ({
      ...f,
      values: f.values.slice(start, end),
      errors: f.errors
        .map((e) => ({ ...e, samples: e.samples.filter((i) => i >= start && i < end).map((i) => i - start) }))
        .filter((e) => e.samples.length > 0),
    })),
    total: scores.total.slice(start, end),
    logs: [],
    metrics: {},
  };
}

function shuttingDown(): RequestError {
  return new RequestError(503, 'the reward server is shutting down; send the request to a running one');
}
