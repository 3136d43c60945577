// Read-only `grpo-preview:` documents: reward previews as plain text. Plain text, so that the
// completions they quote (model output) are never rendered as markup.
import * as vscode from 'vscode';

const SCHEME = 'grpo-preview';

export class RewardPreviews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This reward preview is gone; run "GRPO: Preview on Last Rollout" again.\n';
  }

  /** Shows `text` as the preview of `runName`, beside the editor; a second preview of the same run replaces the first. */
  async show(runName: string, text: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${runName}/Reward Preview.txt` });
    this.texts.set(uri.toString(), text);
    this.changes.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.changes.dispose();
  }
}
