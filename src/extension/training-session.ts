// One training run as the editor sees it: the trainer child process, its events relayed through
// a VS Code event, and the controls. The dashboard panel and the status bar both listen here;
// closing either does not stop training.
import * as vscode from 'vscode';
import type { LiveSettingsCommand } from '../protocol/trainer-messages';
import { TrainerProcess, type ProcessEnd, type StopOptions, type TrainerProcessEvent } from '../trainer-process/client';
import type { PreparedStart } from './start-config';
import { initialStatus, nextStatus, type TrainingStatus } from './training-status';
import { assertWorkspaceTrusted } from './trust';

export interface SessionOptions {
  /** out/trainer-process.js inside the extension. */
  script: string;
  nodePath?: string;
  backend?: string;
  /** The Python of the trl engine (grpo.pythonPath); unset: GRPO_PYTHON, else python3. */
  pythonPath?: string;
  cwd: string;
  stopGraceMs: number;
}

export class TrainingSession implements vscode.Disposable {
  private readonly process: TrainerProcess;
  private readonly events = new vscode.EventEmitter<TrainerProcessEvent>();
  private readonly statusChanges = new vscode.EventEmitter<TrainingStatus>();
  private current: TrainingStatus;
  private readonly stopGraceMs: number;
  /** Every event of the trainer process, in order; the last is its ProcessEnd. */
  readonly onEvent = this.events.event;
  readonly onDidChangeStatus = this.statusChanges.event;
  /** Settles when the process has ended. */
  readonly ended: Promise<ProcessEnd>;
  /** The folder the trainer names reward files from (workspace-relative paths in its events). */
  readonly workspaceRoot: string;

  /** Throws a UserError in Restricted Mode, before anything is forked: the trainer runs reward code. */
  constructor(prepared: PreparedStart, options: SessionOptions) {
    assertWorkspaceTrusted(vscode.workspace.isTrusted, 'training');
    this.current = initialStatus(prepared.config.num_iterations);
    this.workspaceRoot = prepared.start.workspaceRoot;
    this.process = new TrainerProcess({ script: options.script, nodePath: options.nodePath, backend: options.backend, pythonPath: options.pythonPath, cwd: options.cwd });
    this.process.onEvent((e) => {
      const next = nextStatus(this.current, e);
      if (next !== this.current) {
        this.current = next;
        this.statusChanges.fire(next);
      }
      this.events.fire(e);
    });
    this.ended = this.process.ended;
    this.stopGraceMs = options.stopGraceMs;
    this.process.start(prepared.start);
  }

  get status(): TrainingStatus {
    return this.current;
  }

  pause(): void {
    this.process.pause();
  }
  resume(): void {
    this.process.resume();
  }
  /** While paused: one iteration, then paused again. */
  step(): void {
    this.process.step();
  }
  setLive(change: Omit<LiveSettingsCommand, 'type'>): void {
    this.process.setLive(change);
  }
  saveCheckpoint(): void {
    this.process.saveCheckpoint();
  }
  /** Graceful (the trainer finishes its iteration and saves), forced after the grace period. */
  stop(timing: StopOptions = { graceMs: this.stopGraceMs }): Promise<ProcessEnd> {
    if (!this.current.stopping) {
      this.current = { ...this.current, stopping: true };
      this.statusChanges.fire(this.current);
    }
    return this.process.stop(timing);
  }

  dispose(): void {
    this.events.dispose();
    this.statusChanges.dispose();
  }
}
