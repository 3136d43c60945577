// The host side of the trainer process: forks out/trainer-process.js, holds commands until the
// child says it is ready, checks every message it sends back, and reports how it ended. It
// imports neither `vscode` nor TF.js; the extension and the tests both drive training with it.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  receiveTrainerNotification,
  type FatalNotification,
  type HostCommand,
  type LiveSettingsCommand,
  type StartCommand,
  type TrainerNotification,
} from '../protocol/trainer-messages';
import { toWire } from '../protocol/wire-numbers';

export interface TrainerProcessOptions {
  /** The bundled child entry: out/trainer-process.js. */
  script: string;
  /** The Node executable to run it. Default: this process's own (in VS Code, Electron run as Node). */
  nodePath?: string;
  /** GRPO_BACKEND for the trainer, used where the config's backend is "auto". */
  backend?: string;
  /** GRPO_PYTHON for the trainer: the Python of the trl engine (grpo.pythonPath). */
  pythonPath?: string;
  cwd?: string;
  /** How many of the last stderr lines a crash report carries. */
  stderrLines?: number;
}

/** How the process ended; exactly one of these is the last event. */
export type ProcessEnd =
  /** Exit code 0, or ended by the signal `stop` sent after its grace period (`forced`). */
  | { type: 'exited'; code: number | null; signal: NodeJS.Signals | null; forced: boolean }
  /** A non-zero exit or a signal nobody here sent; `fatal` when the child said why first. */
  | { type: 'crashed'; code: number | null; signal: NodeJS.Signals | null; stderrTail: string; fatal?: FatalNotification };

export type TrainerProcessEvent =
  | TrainerNotification
  /** A line the child printed (TF.js warnings, a native crash's message). */
  | { type: 'output'; stream: 'stdout' | 'stderr'; line: string }
  /** The child sent something that is not a trainer notification; it was dropped. */
  | { type: 'protocol-error'; reason: string }
  | ProcessEnd;

export interface StopOptions {
  /** How long the trainer may take to finish its iteration and save; then SIGTERM. */
  graceMs?: number;
  /** How long after SIGTERM before SIGKILL. */
  killMs?: number;
}

export class TrainerProcess {
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(e: TrainerProcessEvent) => void>();
  /** Commands sent before the child's `ready`; undefined once it is ready. */
  private held: HostCommand[] | undefined = [];
  private readonly stderrTail: string[] = [];
  private fatal: FatalNotification | undefined;
  private signalled = false;
  private end: ProcessEnd | undefined;
  private settle!: (end: ProcessEnd) => void;
  /** Settles when the process has ended, with the same value as the last event. */
  readonly ended = new Promise<ProcessEnd>((resolve) => (this.settle = resolve));

  constructor(private readonly options: TrainerProcessOptions) {
    this.child = fork(options.script, [], {
      execPath: options.nodePath ?? process.execPath,
      execArgv: [], // not the host's own flags: inspector ports, loaders
      cwd: options.cwd,
      // ELECTRON_RUN_AS_NODE makes VS Code's Electron binary a plain Node; Node ignores it.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...(options.backend !== undefined ? { GRPO_BACKEND: options.backend } : {}), ...(options.pythonPath ? { GRPO_PYTHON: options.pythonPath } : {}) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child.on('message', (raw: unknown) => this.receive(raw));
    this.readLines('stdout');
    this.readLines('stderr');
    this.child.on('error', (e) => {
      // Spawning failed (no such executable): there will be no exit to wait for.
      if (this.child.pid === undefined) this.finish(null, null, `cannot start ${options.nodePath ?? process.execPath}: ${e.message}`);
    });
    this.child.on('exit', (code, signal) => {
      // 'close' also waits for the last messages and output; a grandchild holding stderr open
      // (esbuild's service) must not hold up the report for long.
      const timer = setTimeout(() => this.finish(code, signal), 1000);
      this.child.once('close', () => {
        clearTimeout(timer);
        this.finish(code, signal);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onEvent(listener: (e: TrainerProcessEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  start(settings: Omit<StartCommand, 'type'>): void {
    this.send({ type: 'start', ...settings });
  }
  pause(): void {
    this.send({ type: 'pause' });
  }
  resume(): void {
    this.send({ type: 'resume' });
  }
  /** While paused: one iteration, then paused again. */
  step(): void {
    this.send({ type: 'step' });
  }
  setLive(change: Omit<LiveSettingsCommand, 'type'>): void {
    this.send({ type: 'set-live', ...change });
  }
  /** Saves the last completed iteration, at the next iteration boundary (`checkpoint-saved`). */
  saveCheckpoint(): void {
    this.send({ type: 'save-checkpoint' });
  }

  /**
   * Asks the trainer to stop after its current iteration (it saves a checkpoint), then sends
   * SIGTERM after `graceMs` and SIGKILL `killMs` later if it is still running.
   */
  async stop({ graceMs = 30_000, killMs = 5_000 }: StopOptions = {}): Promise<ProcessEnd> {
    if (this.end) return this.end;
    this.send({ type: 'stop' });
    const term = setTimeout(() => this.signal('SIGTERM'), graceMs);
    const kill = setTimeout(() => this.signal('SIGKILL'), graceMs + killMs);
    try {
      return await this.ended;
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
    }
  }

  /** Commands after the end are dropped: there is no one to take them. */
  private send(command: HostCommand): void {
    if (this.end) return;
    if (this.held) this.held.push(command);
    else if (this.child.connected) this.child.send(toWire(command), () => undefined); // a failure shows as the exit
  }

  private receive(raw: unknown): void {
    const received = receiveTrainerNotification(raw);
    if (!received.ok) return this.emit({ type: 'protocol-error', reason: received.reason });
    const message = received.message;
    if (message.type === 'fatal') this.fatal = message;
    this.emit(message);
    if (message.type === 'ready' && this.held) {
      const held = this.held;
      this.held = undefined;
      for (const command of held) this.send(command);
    }
  }

  private readLines(stream: 'stdout' | 'stderr'): void {
    const source = this.child[stream];
    if (!source) return;
    const keep = this.options.stderrLines ?? 40;
    createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
      if (stream === 'stderr') {
        this.stderrTail.push(line);
        if (this.stderrTail.length > keep) this.stderrTail.shift();
      }
      this.emit({ type: 'output', stream, line });
    });
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.end) return;
    this.signalled = true;
    this.child.kill(signal);
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, startFailure?: string): void {
    if (this.end) return;
    const forced = this.signalled && signal !== null;
    if (code === 0 || forced) {
      this.end = { type: 'exited', code, signal, forced };
    } else {
      const stderrTail = [...this.stderrTail, ...(startFailure ? [startFailure] : [])].join('\n');
      this.end = { type: 'crashed', code, signal, stderrTail, fatal: this.fatal };
    }
    this.emit(this.end);
    this.settle(this.end);
  }

  private emit(event: TrainerProcessEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
