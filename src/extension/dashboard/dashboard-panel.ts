import * as vscode from 'vscode';
import type { HostMessage } from '../../protocol/dashboard-messages';
import { DashboardChannel, type DashboardChannelOptions, type TrainingControls } from './dashboard-channel';
import { dashboardHtml, newNonce } from './dashboard-html';
import { dashboardTitle } from './restore';

export const DASHBOARD_VIEW_TYPE = 'grpoStudio.dashboard';

export interface DashboardPanelOptions extends Omit<DashboardChannelOptions, 'showError'> {
  extensionUri: vscode.Uri;
}

/**
 * One dashboard's webview panel and everything registered on it; the message logic lives in
 * DashboardChannel. Closing the panel disposes only the panel: training goes on.
 */
export class DashboardPanel {
  private readonly channel: DashboardChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  private isDisposed = false;
  /** Fires once the panel is closed, so its owner can forget it. */
  readonly onDidDispose = this.disposed.event;

  /** Opens a new panel beside the editor. */
  static open(options: DashboardPanelOptions): DashboardPanel {
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, dashboardTitle(options.runDir), vscode.ViewColumn.Beside, {
      ...webviewOptions(options.extensionUri),
      retainContextWhenHidden: false, // the page rebuilds itself from a snapshot, so hidden it costs nothing
    });
    return new DashboardPanel(panel, options);
  }

  /** Takes over a panel VS Code restored after a reload (see Dashboards.deserializeWebviewPanel). */
  static revive(panel: vscode.WebviewPanel, options: DashboardPanelOptions): DashboardPanel {
    return new DashboardPanel(panel, options);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly options: DashboardPanelOptions,
  ) {
    const webview = panel.webview;
    this.channel = new DashboardChannel(
      { ...options, showError: (message) => void vscode.window.showErrorMessage(message) },
      (m) => void webview.postMessage(m),
    );
    webview.options = webviewOptions(options.extensionUri);
    const out = vscode.Uri.joinPath(options.extensionUri, 'out');
    webview.html = dashboardHtml(
      {
        cspSource: webview.cspSource,
        scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(out, 'webview.js')).toString(),
        styleUri: webview.asWebviewUri(vscode.Uri.joinPath(out, 'webview.css')).toString(),
      },
      newNonce(),
    );
    this.disposables.push(
      this.disposed,
      webview.onDidReceiveMessage((m: unknown) => void this.channel.receive(m)),
      // A hidden page is torn down and posts `ready` again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.channel.pageGone();
      }),
    );
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
  }

  get runDir(): string {
    return this.options.runDir;
  }

  /** Delivers now, or after the page's next `ready`. */
  post(message: HostMessage): void {
    this.channel.post(message);
  }

  /** The session that owned the run has ended: from now on the panel is read-only. */
  detachControls(): void {
    this.channel.detachControls();
  }

  /** A session now trains this run: the panel gets its controls. */
  attachControls(controls: TrainingControls): void {
    void this.channel.attachControls(controls).catch((e: Error) => this.options.log(`dashboard: ${e.message}`));
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.disposed.fire();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** Scripts on, and only the extension's bundle folder readable. */
function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'out')] };
}
