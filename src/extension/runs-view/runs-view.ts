// The "Runs" tree of the GRPO Studio activity-bar container: each run folder with its progress,
// its dashboard, log and checkpoints. Refreshed (debounced) when files under the output folders
// or the configs change, and when this window's training session does. Reads files only, so it
// works in Restricted Mode.
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../command-ids';
import type { SessionSlot } from '../session-slot';
import { workspaceConfigFiles } from '../workspace-configs';
import { checkpointDescription, checkpointTooltip, runDescription, runTooltip } from './node-text';
import { listRunFolders, outputDirOf, readRunSummary, type RunSummary } from './run-list';
import { RUN_VIEW_CONTEXT, runChildren, type RunNode } from './run-nodes';

export const RUNS_VIEW_ID = 'grpo.runs';
const REFRESH_DELAY_MS = 500; // a trainer iteration writes several files in a burst

export class RunsView implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changes.event;
  private readonly disposables: vscode.Disposable[] = [];
  private folderWatchers: vscode.Disposable[] = [];
  private watchedKey = '';
  private timer: NodeJS.Timeout | undefined;
  private sessionWatch: vscode.Disposable | undefined;
  /** Problems already logged: the view rereads every run on each refresh, several times a second while training. */
  private readonly logged = new Set<string>();

  constructor(
    private readonly slot: SessionSlot,
    private readonly log: (line: string) => void,
  ) {
    const configs = vscode.workspace.createFileSystemWatcher('**/grpo.config.json');
    this.disposables.push(
      vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this }),
      configs,
      configs.onDidCreate(() => this.refresh()),
      configs.onDidChange(() => this.refresh()),
      configs.onDidDelete(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('grpo.configFile') && this.refresh()),
      slot.onDidChange((session) => {
        this.sessionWatch?.dispose();
        this.sessionWatch = session?.onDidChangeStatus(() => this.refresh()); // its run folder appears after the start
        this.refresh();
      }),
    );
  }

  /**
   * Re-reads the runs soon; calls in a burst make one refresh. A timer already set is kept, not
   * restarted: a fast run writes files more often than the delay, and must not starve the view.
   */
  refresh(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changes.fire();
    }, REFRESH_DELAY_MS);
  }

  async getChildren(node?: RunNode): Promise<RunNode[]> {
    if (node) return node.kind === 'run' ? runChildren(node.run) : [];
    try {
      const outputDirs = await Promise.all((await workspaceConfigFiles()).map(outputDirOf));
      this.watch(outputDirs);
      const live = this.slot.current?.status.runDir;
      const runs = await Promise.all((await listRunFolders(outputDirs)).map(readRunSummary));
      for (const run of runs) this.logAdapterProblem(run);
      return runs.map((run) => ({ kind: 'run', run, training: live !== undefined && resolve(live) === resolve(run.path) }));
    } catch (e) {
      this.log(`runs view: ${(e as Error).message}`);
      return [];
    }
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run': {
        const item = new vscode.TreeItem(node.run.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = node.run.path;
        item.description = runDescription(node.run, node.training);
        item.tooltip = runTooltip(node.run);
        item.iconPath = new vscode.ThemeIcon(node.training ? 'pulse' : 'beaker');
        item.contextValue = RUN_VIEW_CONTEXT.run;
        item.command = { command: CommandId.OpenRunDashboard, title: 'Open Dashboard', arguments: [node.run.path] };
        return item;
      }
      case 'dashboard': {
        const item = new vscode.TreeItem('Dashboard');
        item.id = `${node.runDir}#dashboard`;
        item.iconPath = new vscode.ThemeIcon('graph');
        item.command = { command: CommandId.OpenRunDashboard, title: 'Open Dashboard', arguments: [node.runDir] };
        return item;
      }
      case 'log': {
        const log = vscode.Uri.joinPath(vscode.Uri.file(node.runDir), 'log.txt');
        const item = new vscode.TreeItem('Log');
        item.id = `${node.runDir}#log`;
        item.iconPath = new vscode.ThemeIcon('output');
        item.command = { command: 'vscode.open', title: 'Open Log', arguments: [log] };
        return item;
      }
      case 'checkpoint': {
        const item = new vscode.TreeItem(`iter ${node.checkpoint.iteration}`);
        item.id = node.checkpoint.path;
        item.description = checkpointDescription(node.checkpoint);
        item.tooltip = checkpointTooltip(node.checkpoint);
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = RUN_VIEW_CONTEXT.checkpoint;
        return item;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.sessionWatch?.dispose();
    for (const d of [...this.folderWatchers, ...this.disposables]) d.dispose();
    this.changes.dispose();
  }

  /** A damaged adapter.json only loses the run its adapter line; the log says why, once. */
  private logAdapterProblem(run: RunSummary): void {
    if (!run.adapterProblem || this.logged.has(run.adapterProblem)) return;
    this.logged.add(run.adapterProblem);
    this.log(`runs view: ${run.adapterProblem}`);
  }

  /** Watches the output folders; again when they change, e.g. a config's output_dir was edited. */
  private watch(outputDirs: string[]): void {
    const key = [...new Set(outputDirs)].sort().join('\n');
    if (key === this.watchedKey) return;
    this.watchedKey = key;
    for (const w of this.folderWatchers) w.dispose();
    this.folderWatchers = [];
    for (const dir of new Set(outputDirs)) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '**'));
      this.folderWatchers.push(
        watcher,
        watcher.onDidCreate(() => this.refresh()),
        watcher.onDidChange(() => this.refresh()),
        watcher.onDidDelete(() => this.refresh()),
      );
    }
  }
}
