import { resolve } from 'node:path';
import * as vscode from 'vscode';
import type { AdapterInfoMessage, HostMessage, TrainerStatus } from '../../protocol/dashboard-messages';
import { DashboardEvents } from '../../run-folder/event-messages';
import { RunFolder } from '../../run-folder/run-folder';
import type { TrainerEvent } from '../../trainer/events';
import { RunDecoders } from '../../run-folder/run-decoders';
import { type CompletionRef, type TrainingControls } from './dashboard-channel';
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from './dashboard-panel';
import { rememberRun, restoredRunDir } from './restore';

/** What the extension gives the dashboards. */
export interface DashboardHost {
  extensionUri: vscode.Uri;
  /** workspaceState: remembers which run folders had dashboards, for restoring them. */
  memento: vscode.Memento;
  /** The controls of the training session of this window that writes `runDir`, if any. */
  sessionFor(runDir: string): TrainingControls | undefined;
  openCompletion(ref: CompletionRef): void;
  log(line: string): void;
}

const REMEMBERED_KEY = 'grpoStudio.dashboardRuns';

/**
 * The open dashboards, one per run folder, and their restoration after a reload. A panel
 * whose run no training session owns is read-only.
 */
export class Dashboards implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Map<string, DashboardPanel>();
  private readonly decoders: RunDecoders;
  /** Runs being trained, by folder: their event translator and the last event forwarded. */
  private readonly runs = new Map<string, { events: DashboardEvents; forwarded: Promise<void> }>();

  constructor(private readonly host: DashboardHost) {
    this.decoders = new RunDecoders((line) => host.log(`dashboard: ${line}`));
  }

  /** Call once in `activate`; the manifest lists `onWebviewPanel:grpoStudio.dashboard`. */
  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, this);
  }

  /**
   * A session has started training `runDir` (a new run, or a resumed one): its dashboard
   * opens, or an open one takes the session's controls.
   */
  async showLive(given: string): Promise<DashboardPanel> {
    const runDir = resolve(given);
    const open = this.panels.get(runDir);
    const controls = this.host.sessionFor(runDir);
    if (open && controls) open.attachControls(controls);
    return this.show(runDir);
  }

  /** Shows the run's dashboard, opening one if none is open; live when a session owns the run. */
  async show(given: string): Promise<DashboardPanel> {
    const runDir = resolve(given); // one panel per folder, however its path is spelled
    const open = this.panels.get(runDir);
    if (open) {
      open.reveal();
      return open;
    }
    const options = await this.panelOptions(runDir);
    const raced = this.panels.get(runDir); // opened while the tokenizer loaded
    return raced ?? this.track(DashboardPanel.open(options));
  }

  /**
   * "Open Run": any past run folder; read-only unless a session of this window trains it.
   * Throws a UserError when the folder is not a run folder.
   */
  async openPastRun(given: string): Promise<DashboardPanel> {
    const runDir = resolve(given);
    await new RunFolder(runDir).config();
    return this.show(runDir);
  }

  /** A message for the run's dashboard, if one is open (held until its page is ready). */
  post(given: string, message: HostMessage): void {
    const runDir = resolve(given);
    this.panels.get(runDir)?.post(message);
  }

  /**
   * A training session's event, as messages for the run's dashboard (held until its page is
   * ready; dropped when no dashboard is open). Call for every event, in order, from
   * `run-started` on, so the status is known when a dashboard opens mid-run.
   */
  forward(given: string, event: TrainerEvent): Promise<void> {
    const runDir = resolve(given);
    let run = this.runs.get(runDir);
    if (!run) {
      run = { events: new DashboardEvents(new RunFolder(runDir), this.decoders.forRun(runDir)), forwarded: Promise.resolve() };
      this.runs.set(runDir, run);
    }
    // One event at a time per run, so a metrics event's folder read cannot reorder messages.
    const { events } = run;
    run.forwarded = run.forwarded
      .then(async () => {
        for (const m of await events.messagesFor(event)) this.post(runDir, m);
      })
      .catch((e: Error) => this.host.log(`dashboard: ${e.message}`));
    return run.forwarded;
  }

  /** The run's status as its forwarded events tell it; for TrainingControls.status. */
  statusOf(given: string): TrainerStatus | undefined {
    const runDir = resolve(given);
    return this.runs.get(runDir)?.events.status;
  }

  /** The run's LoRA adapter as its run-started event told it; for TrainingControls.adapter. */
  adapterOf(given: string): AdapterInfoMessage | undefined {
    const runDir = resolve(given);
    return this.runs.get(runDir)?.events.adapter;
  }

  /** The session writing `runDir` ended: its dashboard stays open, read-only from now. */
  sessionEnded(given: string): void {
    const runDir = resolve(given);
    this.panels.get(runDir)?.detachControls();
    this.runs.delete(runDir);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const runDir = restoredRunDir(panel.title, state, this.host.memento.get<string[]>(REMEMBERED_KEY, []));
    if (runDir === undefined) {
      this.host.log(`dashboard "${panel.title}": not restored, its run folder is not known; use GRPO: Open Run`);
      panel.dispose();
      return;
    }
    this.track(DashboardPanel.revive(panel, await this.panelOptions(resolve(runDir))));
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
  }

  private track(panel: DashboardPanel): DashboardPanel {
    const runDir = panel.runDir;
    this.panels.set(runDir, panel);
    void this.host.memento.update(REMEMBERED_KEY, rememberRun(this.host.memento.get<string[]>(REMEMBERED_KEY, []), runDir));
    panel.onDidDispose(() => {
      if (this.panels.get(runDir) === panel) this.panels.delete(runDir);
    });
    return panel;
  }

  private async panelOptions(runDir: string) {
    return {
      extensionUri: this.host.extensionUri,
      runDir,
      decodeToken: await this.decoders.forRun(runDir),
      controls: this.host.sessionFor(runDir),
      openCompletion: (ref: CompletionRef) => this.host.openCompletion(ref),
      log: (line: string) => this.host.log(line),
    };
  }
}
