// One lane of reward workers: a worker thread that runs one call at a time under a time
// limit, and is terminated and replaced (on the next call) when a call overruns or it dies.

import { Worker } from 'node:worker_threads';
import { assert } from '../errors';
import { isWorkerMessage, type BundleRef, type CallRequest, type CallResult, type LoadedFile, type LoadedMessage, type WorkerData, type WorkerMessage } from './protocol';

/** Heap limit of a reward worker: a runaway reward then kills its worker, not the trainer. */
const WORKER_HEAP_MB = 1024;
/** Starting a worker thread is not the reward's time: loading gets this on top of the call limit. */
const WORKER_STARTUP_MS = 5000;

interface Exit {
  type: 'exit';
  code: number;
  error?: Error;
}

/** A worker thread and the messages it sent that nobody has taken yet. */
class LiveWorker {
  private readonly worker: Worker;
  private readonly inbox: (WorkerMessage | Exit)[] = [];
  private wake?: () => void;
  private lastError?: Error;

  constructor(script: string, data: WorkerData) {
    // execArgv: []: the harness is plain JavaScript; inheriting a loader such as tsx only slows start-up.
    this.worker = new Worker(script, { workerData: data, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    // An idle worker must not keep the trainer alive; a call in flight is kept alive by its timer.
    this.worker.unref();
    this.worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.push(m);
    });
    this.worker.on('error', (e) => (this.lastError = e));
    this.worker.on('exit', (code) => this.push({ type: 'exit', code, error: this.lastError }));
  }

  private push(m: WorkerMessage | Exit): void {
    this.inbox.push(m);
    this.wake?.();
  }

  post(req: CallRequest): void {
    this.worker.postMessage(req);
  }

  /**
   * The first message that `wanted` accepts, or the exit, or 'timeout' after `ms`. Anything
   * else is dropped: user code can reach parentPort too, and must not derail the protocol.
   */
  async waitFor<M extends WorkerMessage>(wanted: (m: WorkerMessage) => m is M, ms: number): Promise<M | Exit | 'timeout'> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let m = this.inbox.shift(); m; m = this.inbox.shift()) {
        if (m.type === 'exit' || wanted(m)) return m as M | Exit;
      }
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export type LoadOutcome = { ok: true; files: LoadedFile[] } | { ok: false; message: string };

export type CallOutcome =
  | { ok: true; result: CallResult }
  | { ok: false; kind: 'timeout' | 'crashed'; message: string; stack?: string };

function exitMessage(exit: Exit): { message: string; stack?: string } {
  const why = exit.error ? `: ${exit.error.name}: ${exit.error.message}` : ` with code ${exit.code} (did the reward call process.exit()?)`;
  return { message: `its worker stopped${why}`, stack: exit.error?.stack };
}

export class WorkerSlot {
  private live?: LiveWorker;
  private loaded?: Promise<LoadOutcome>;
  private readonly stopping = new Set<Promise<number>>();

  constructor(
    private readonly script: string,
    private readonly bundles: BundleRef[],
    private readonly timeoutMs: number,
  ) {}

  /** Another lane over the same bundles. */
  sibling(): WorkerSlot {
    return new WorkerSlot(this.script, this.bundles, this.timeoutMs);
  }

  /** Starts this lane's worker if none is running and waits until it has loaded every bundle. */
  load(): Promise<LoadOutcome> {
    if (!this.loaded) {
      const live = new LiveWorker(this.script, { bundles: this.bundles });
      this.live = live;
      const limitMs = this.timeoutMs + WORKER_STARTUP_MS;
      this.loaded = live.waitFor((m): m is LoadedMessage => m.type === 'loaded', limitMs).then((m): LoadOutcome => {
        if (m === 'timeout') {
          this.discard();
          return { ok: false, message: `loading the reward files took over ${limitMs} ms` };
        }
        if (m.type === 'exit') {
          this.discard();
          return { ok: false, message: `loading the reward files failed: ${exitMessage(m).message}` };
        }
        return { ok: true, files: m.files };
      });
    }
    return this.loaded;
  }

  async call(req: CallRequest): Promise<CallOutcome> {
    const loaded = await this.load();
    if (!loaded.ok) return { ok: false, kind: 'crashed', message: loaded.message };
    const failed = loaded.files.find((f) => !f.ok);
    if (failed && !failed.ok) return { ok: false, kind: 'crashed', message: `${failed.file} no longer loads: ${failed.message}` };
    const live = this.live;
    assert(live, 'a loaded slot has a worker');
    live.post(req);
    const m = await live.waitFor((x): x is CallResult => x.type === 'result' && x.id === req.id, this.timeoutMs);
    if (m === 'timeout') {
      this.discard();
      return { ok: false, kind: 'timeout', message: `did not finish within ${this.timeoutMs} ms; its worker was terminated` };
    }
    if (m.type === 'exit') {
      this.discard();
      return { ok: false, kind: 'crashed', ...exitMessage(m) };
    }
    return { ok: true, result: m };
  }

  /** Terminates the worker; the next call starts a fresh one. */
  private discard(): void {
    if (this.live) {
      const stopped = this.live.terminate();
      this.stopping.add(stopped);
      void stopped.finally(() => this.stopping.delete(stopped));
    }
    this.live = undefined;
    this.loaded = undefined;
  }

  async close(): Promise<void> {
    this.discard();
    await Promise.all([...this.stopping]);
  }
}
