// The run the inline views show: the session's run while one trains (from its run-started),
// else the newest run folder in the workspace. Fires when the run changes and when an iteration
// of it has been written (the trainer's `metrics` event comes after its files are on disk).
import * as vscode from 'vscode';
import type { MetricsLine } from '../../protocol/dashboard-messages';
import { isTrainerEvent } from '../../protocol/trainer-messages';
import type { SessionSlot } from '../session-slot';
import { workspaceRunFolders } from '../workspace-runs';
import type { TrainingSession } from '../training-session';

export interface RunChange {
  runDir: string;
  /** The iteration just written; absent when the run itself is new to the view. */
  iteration?: number;
  /** Its metrics line, as metrics.jsonl has it (NaN as null), so readers need not reread the file. */
  metrics?: MetricsLine;
}

export class CurrentRun implements vscode.Disposable {
  private dir: string | undefined;
  private readonly changes = new vscode.EventEmitter<RunChange>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly onDidChange = this.changes.event;

  constructor(slot: SessionSlot) {
    this.subscriptions.push(slot.onDidChange((s) => s && this.follow(s)));
    if (slot.current) this.follow(slot.current);
    else void this.findNewest();
  }

  get runDir(): string | undefined {
    return this.dir;
  }

  private follow(session: TrainingSession): void {
    const sub = session.onEvent((e) => {
      if (e.type === 'exited' || e.type === 'crashed') return sub.dispose();
      if (e.type === 'output' || e.type === 'protocol-error' || !isTrainerEvent(e)) return;
      if (e.type === 'run-started') this.move(e.runDir);
      else if (e.type === 'metrics' && this.dir) {
        const metrics = JSON.parse(JSON.stringify(e.metrics)) as MetricsLine;
        this.changes.fire({ runDir: this.dir, iteration: e.iteration, metrics });
      }
    });
    this.subscriptions.push(sub);
    if (session.status.runDir) this.move(session.status.runDir);
  }

  /** The workspace's newest run folder (../workspace-runs), for the views before any session. */
  private async findNewest(): Promise<void> {
    const [newest] = await workspaceRunFolders();
    if (newest && !this.dir) this.move(newest);
  }

  private move(runDir: string): void {
    this.dir = runDir;
    this.changes.fire({ runDir });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changes.dispose();
  }
}
