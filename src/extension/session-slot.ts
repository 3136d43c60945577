// The one training run at a time, where commands, the status bar and the dashboard find it.
import * as vscode from 'vscode';
import type { TrainingSession } from './training-session';

export class SessionSlot implements vscode.Disposable {
  private session: TrainingSession | undefined;
  private readonly changes = new vscode.EventEmitter<TrainingSession | undefined>();
  /** Fires with the new session when a run starts, and with undefined when it has ended. */
  readonly onDidChange = this.changes.event;

  get current(): TrainingSession | undefined {
    return this.session;
  }

  /** Holds `session` until its process ends. */
  hold(session: TrainingSession): void {
    this.session = session;
    this.changes.fire(session);
    void session.ended.then(() => {
      if (this.session !== session) return;
      this.session = undefined;
      this.changes.fire(undefined);
      session.dispose();
    });
  }

  dispose(): void {
    this.changes.dispose();
  }
}
