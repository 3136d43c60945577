// In the current run's dataset file, each prompt line shows its latest group's mean reward and
// best completion after the line, and every completion of the group on hover (./row-text).
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import { RunFolder } from '../../run-folder/run-folder';
import { CurrentRun, type RunChange } from '../run-state/current-run';
import type { SessionSlot } from '../session-slot';
import { groupsOfIteration, withNewer, type RowGroups } from './row-groups';
import { rowDecorations } from './row-text';

/** Rollout files read when a run comes into view, newest first: enough for recent rows, bounded for long runs. */
const RECENT_ITERATIONS = 32;

async function groupsOf(runDir: string, iteration: number): Promise<RowGroups> {
  return groupsOfIteration((await new RunFolder(runDir).records(iteration)) ?? [], iteration);
}

class DatasetDecorations implements vscode.Disposable {
  private runDir: string | undefined;
  private datasetFile: string | undefined;
  private groups: RowGroups = new Map();
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly type = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });

  async update(change: RunChange): Promise<void> {
    if (change.iteration === undefined) {
      this.runDir = change.runDir;
      const folder = new RunFolder(change.runDir);
      this.datasetFile = resolve((await folder.config()).dataset_path);
      let groups: RowGroups = new Map();
      for (const iteration of (await folder.rolloutIterations()).slice(-RECENT_ITERATIONS)) groups = withNewer(groups, await groupsOf(change.runDir, iteration));
      this.groups = groups;
    } else if (change.runDir === this.runDir) {
      this.groups = withNewer(this.groups, await groupsOf(change.runDir, change.iteration));
    }
    this.render(vscode.window.visibleTextEditors);
  }

  render(editors: readonly vscode.TextEditor[]): void {
    for (const editor of editors) {
      if (!this.datasetFile || resolve(editor.document.uri.fsPath) !== this.datasetFile) continue;
      const document = editor.document;
      const options = rowDecorations(document.getText(), this.groups).map((d): vscode.DecorationOptions => {
        const hover = new vscode.MarkdownString(d.hover); // not trusted, no HTML: completions stay text
        return { range: document.lineAt(d.line).range, hoverMessage: hover, renderOptions: { after: { contentText: d.summary } } };
      });
      editor.setDecorations(this.type, options);
    }
  }

  /** Edits move rows between lines; redraw once typing pauses. */
  edited(document: vscode.TextDocument): void {
    if (!this.datasetFile || resolve(document.uri.fsPath) !== this.datasetFile) return;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.render(vscode.window.visibleTextEditors.filter((e) => e.document === document)), 300);
  }

  dispose(): void {
    clearTimeout(this.pending);
    this.type.dispose();
  }
}

export function registerDatasetDecorations(slot: SessionSlot, log: (line: string) => void): vscode.Disposable {
  const decorations = new DatasetDecorations();
  const run = new CurrentRun(slot);
  // A damaged or half-written run folder costs the decorations, never the extension.
  const update = (change: RunChange) => void decorations.update(change).catch((e: Error) => log(`dataset decorations: ${e.message}`));
  if (run.runDir) update({ runDir: run.runDir });
  return vscode.Disposable.from(
    decorations,
    run,
    run.onDidChange(update),
    vscode.window.onDidChangeVisibleTextEditors((editors) => decorations.render(editors)),
    vscode.workspace.onDidChangeTextDocument((e) => decorations.edited(e.document)),
  );
}
