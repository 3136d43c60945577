// GRPO: New Training Config. Writes grpo.config.json in the first workspace folder.
import * as vscode from 'vscode';
import { createTrainingConfig } from '../create-config';

export async function newTrainingConfig(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) {
    void vscode.window.showErrorMessage('GRPO: open a folder first; the config is written into it.');
    return;
  }
  await createTrainingConfig(folder);
}
