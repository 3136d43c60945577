// A completion picked in the dashboard, opened beside it as a read-only document with its
// tokens coloured (./completion-document), the cursor at the completion's first token.
import * as vscode from 'vscode';
import type { CompletionDocuments } from './completion-document/completion-documents';
import type { CompletionRef } from './dashboard/dashboard-channel';

/** Shows the failure as well as throwing it: the user clicked and is waiting for a document. */
export async function openCompletion(documents: CompletionDocuments, ref: CompletionRef): Promise<void> {
  try {
    const { uri, document } = await documents.load(ref);
    const textDocument = await vscode.workspace.openTextDocument(uri);
    const start = textDocument.positionAt(document.completionStart);
    const editor = await vscode.window.showTextDocument(textDocument, {
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
      selection: new vscode.Range(start, start),
    });
    documents.decorate([editor]);
  } catch (e) {
    void vscode.window.showErrorMessage(`GRPO: could not open the completion: ${(e as Error).message}`);
    throw e;
  }
}
