// One lane of reward workers: for each reward file a child process that runs one call at a
// time under a time limit and a memory bound, killed and replaced (on the next call) when a
// call overruns or it dies. A process per file keeps one file's globals and prototypes from
// another's; a process, not a thread, is what Node's permission model confines.

import { fork, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert } from '../errors';
import { permissionFlags, realFolders, rewardNode, type PermissionCheck, type RewardPermissions } from './permissions';
import { isWorkerMessage, type BundleRef, type CallRequest, type CallResult, type LoadedFile, type LoadedMessage, type WorkerData, type WorkerMessage } from './protocol';
import { residentMb } from './resident-memory';

/** Heap limit of a reward process: a runaway reward then ends its own process, not the trainer. */
const WORKER_HEAP_MB = 1024;
/** Resident memory past which a reward process is killed: the heap plus room for buffers, which V8's limit does not count. */
export const WORKER_RESIDENT_MB = 2048;
/** How often the resident memory of a reward process is read. */
const MEMORY_CHECK_MS = 200;
/** Starting a process is not the reward's time: loading gets this on top of the call limit. */
const WORKER_STARTUP_MS = 5000;
/** The last output a dying process wrote, for the message (V8 says why it aborted). */
const STDERR_TAIL_CHARS = 2000;

interface Exit {
  type: 'exit';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why we killed it, where we did. */
  killedFor?: string;
  stderr: string;
}

/** A reward process and the messages it sent that nobody has taken yet. */
class LiveWorker {
  private readonly child: ChildProcess;
  private readonly inbox: (WorkerMessage | Exit)[] = [];
  private wake?: () => void;
  private stderr = '';
  private killedFor?: string;
  private readonly memoryTimer: NodeJS.Timeout;
  readonly exited: Promise<void>;

  constructor(script: string, data: WorkerData, node: string, execArgv: string[]) {
    this.child = fork(script, [JSON.stringify(data)], {
      execPath: node,
      // Not the trainer's own flags (a loader such as tsx only slows start-up): the permission
      // model, the heap limit, and no warning about the permission model being experimental.
      execArgv: [...execArgv, `--max-old-space-size=${WORKER_HEAP_MB}`, '--no-warnings'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Structured clone: NaN and Infinity in results survive, as they would not through JSON.
      serialization: 'advanced',
    });
    // An idle worker must not keep the trainer alive; a call in flight is kept alive by its timer.
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_CHARS)));
    this.child.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.push(m);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        clearInterval(this.memoryTimer);
        // stderr may still hold V8's last words; give it a moment to arrive.
        setImmediate(() => {
          this.push({ type: 'exit', code, signal, killedFor: this.killedFor, stderr: this.stderr });
          resolve();
        });
      });
    });
    this.child.on('error', (e) => (this.stderr += `\n${e.message}`));
    this.memoryTimer = setInterval(() => {
      const mb = this.child.pid === undefined ? undefined : residentMb(this.child.pid);
      if (mb !== undefined && mb > WORKER_RESIDENT_MB) this.kill(`it used ${Math.round(mb)} MB of memory, over the ${WORKER_RESIDENT_MB} MB a reward process may hold`);
    }, MEMORY_CHECK_MS);
    this.memoryTimer.unref();
  }

  private push(m: WorkerMessage | Exit): void {
    this.inbox.push(m);
    this.wake?.();
  }

  post(req: CallRequest): void {
    // A process that died meanwhile reports through its exit; the send error adds nothing.
    this.child.send(req, () => undefined);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * The first message that `wanted` accepts, or the exit, or 'timeout' after `ms`. Anything
   * else is dropped: user code can reach process.send too, and must not derail the protocol.
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

  kill(reason?: string): Promise<void> {
    this.killedFor ??= reason;
    if (this.alive) {
      // Whoever waits for the exit must keep the trainer alive until it comes.
      this.child.ref();
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }
}

export type LoadOutcome = { ok: true; files: LoadedFile[] } | { ok: false; message: string };

export type CallOutcome =
  | { ok: true; result: CallResult }
  | { ok: false; kind: 'timeout' | 'crashed'; message: string; stack?: string };

function exitMessage(exit: Exit): { message: string } {
  if (exit.killedFor) return { message: `its worker was stopped: ${exit.killedFor}` };
  if (/heap limit|heap out of memory/i.test(exit.stderr)) return { message: `its worker ran out of memory (the heap limit of a reward process is ${WORKER_HEAP_MB} MB)` };
  if (exit.signal) return { message: `its worker stopped with signal ${exit.signal}` };
  return { message: `its worker stopped with code ${exit.code} (did the reward call process.exit()?)` };
}

/** The permissions of `permissions` and a path that they must refuse, for the process to check. */
function permissionCheck(permissions: RewardPermissions): PermissionCheck {
  const writable = realFolders(permissions.writable);
  // Unless the temporary folder itself is writable (a workspace there), it is outside.
  const outside = [join(tmpdir(), 'grpo-reward-permission-probe'), '/grpo-reward-permission-probe'].find((p) => !writable.some((w) => p.startsWith(w + '/')));
  return { writable, childProcesses: permissions.childProcesses, outside: outside ?? '/grpo-reward-permission-probe' };
}

/** One reward file's process in a lane, and its load. */
interface FileWorker {
  live: LiveWorker;
  loaded: Promise<{ ok: true; file: LoadedFile } | { ok: false; message: string }>;
}

export class WorkerSlot {
  private readonly workers = new Map<string, FileWorker>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly node: string;
  private readonly execArgv: string[];
  private readonly check: PermissionCheck;

  constructor(
    private readonly script: string,
    private readonly bundles: BundleRef[],
    private readonly timeoutMs: number,
    private readonly permissions: RewardPermissions,
  ) {
    const { node, flag } = rewardNode();
    this.node = node;
    this.execArgv = permissionFlags(permissions, flag);
    this.check = permissionCheck(permissions);
  }

  /** Another lane over the same bundles. */
  sibling(): WorkerSlot {
    return new WorkerSlot(this.script, this.bundles, this.timeoutMs, this.permissions);
  }

  /** Starts this lane's process for each file that has none and waits until each has loaded its bundle. */
  async load(): Promise<LoadOutcome> {
    const outcomes = await Promise.all(this.bundles.map((b) => this.worker(b).loaded));
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) return failed;
    return { ok: true, files: outcomes.map((o) => (o as { file: LoadedFile }).file) };
  }

  private worker(bundle: BundleRef): FileWorker {
    const running = this.workers.get(bundle.file);
    // One that died between calls (a timer of user code calling process.exit) is replaced.
    if (running && running.live.alive) return running;
    if (running) this.discard(bundle.file);
    const live = new LiveWorker(this.script, { bundle, permissions: this.check }, this.node, this.execArgv);
    const limitMs = this.timeoutMs + WORKER_STARTUP_MS;
    const loaded = live.waitFor((m): m is LoadedMessage => m.type === 'loaded', limitMs).then((m) => {
      if (m === 'timeout') {
        this.discard(bundle.file);
        return { ok: false as const, message: `loading ${bundle.file} took over ${limitMs} ms` };
      }
      if (m.type === 'exit') {
        this.discard(bundle.file);
        return { ok: false as const, message: `loading ${bundle.file} failed: ${exitMessage(m).message}` };
      }
      if (m.refused) {
        this.discard(bundle.file);
        return { ok: false as const, message: m.refused };
      }
      return { ok: true as const, file: m.file };
    });
    const w = { live, loaded };
    this.workers.set(bundle.file, w);
    return w;
  }

  async call(req: CallRequest): Promise<CallOutcome> {
    const bundle = this.bundles.find((b) => b.file === req.file);
    assert(bundle, `internal error: no bundle for reward file ${req.file}`);
    const w = this.worker(bundle);
    const loaded = await w.loaded;
    if (!loaded.ok) return { ok: false, kind: 'crashed', message: loaded.message };
    if (!loaded.file.ok) return { ok: false, kind: 'crashed', message: `${loaded.file.file} no longer loads: ${loaded.file.message}` };
    w.live.post(req);
    const m = await w.live.waitFor((x): x is CallResult => x.type === 'result' && x.id === req.id, this.timeoutMs);
    if (m === 'timeout') {
      this.discard(req.file);
      return { ok: false, kind: 'timeout', message: `did not finish within ${this.timeoutMs} ms; its worker was terminated` };
    }
    if (m.type === 'exit') {
      this.discard(req.file);
      return { ok: false, kind: 'crashed', ...exitMessage(m) };
    }
    return { ok: true, result: m };
  }

  /** Kills a file's process; its next call starts a fresh one. */
  private discard(file: string): void {
    const w = this.workers.get(file);
    if (!w) return;
    this.workers.delete(file);
    const stopped = w.live.kill();
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }

  /** Processes running now (for leak checks). */
  get running(): number {
    return this.workers.size;
  }

  async close(): Promise<void> {
    for (const file of [...this.workers.keys()]) this.discard(file);
    await Promise.all([...this.stopping]);
  }
}
