// Connects training sessions to dashboards: a run's dashboard opens when the trainer has made
// its folder, receives every trainer event, and gets the session's controls while it lives.
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import type { LiveSettingsChange } from '../protocol/dashboard-messages';
import { isTrainerEvent } from '../protocol/trainer-messages';
import type { Dashboards } from './dashboard/dashboards';
import type { TrainingControls } from './dashboard/dashboard-channel';
import type { SessionSlot } from './session-slot';
import type { TrainingSession } from './training-session';

export class DashboardLink implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Live changes sent to the current session, so a reopened dashboard shows them. */
  private live: LiveSettingsChange = {};

  constructor(
    private readonly slot: SessionSlot,
    private readonly dashboards: () => Dashboards,
  ) {
    this.subscriptions.push(slot.onDidChange((s) => s && this.follow(s)));
  }

  /** The controls of the session training `runDir`, for a dashboard of that run. */
  controlsFor(runDir: string): TrainingControls | undefined {
    const session = this.slot.current;
    if (!session?.status.runDir || resolve(session.status.runDir) !== resolve(runDir)) return undefined;
    return {
      pause: () => session.pause(),
      resume: () => session.resume(),
      step: () => session.step(),
      stop: () => void session.stop(),
      setLive: (change) => {
        this.live = { ...this.live, ...change, rewardWeights: { ...this.live.rewardWeights, ...change.rewardWeights } };
        session.setLive(change);
      },
      status: () => this.dashboards().statusOf(runDir) ?? { state: 'starting', iteration: 0 },
      live: () => this.live,
      adapter: () => this.dashboards().adapterOf(runDir),
    };
  }

  private follow(session: TrainingSession): void {
    this.live = {};
    let runDir: string | undefined;
    const sub = session.onEvent((e) => {
      if (e.type === 'exited' || e.type === 'crashed') {
        if (runDir) this.dashboards().sessionEnded(runDir);
        sub.dispose();
        return;
      }
      if (e.type === 'output' || e.type === 'protocol-error' || !isTrainerEvent(e)) return;
      if (e.type === 'run-started') {
        runDir = e.runDir;
        // The panel starts from a snapshot of the folder; events after it follow in order.
        void this.dashboards().showLive(runDir);
      }
      if (runDir) void this.dashboards().forward(runDir, e);
    });
    this.subscriptions.push(sub);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
