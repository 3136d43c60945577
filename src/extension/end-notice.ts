// Tells the user how a run ended; after a crash, with a button to its log.
import * as vscode from 'vscode';
import type { ProcessEnd } from '../trainer-process/client';
import { reportEnd } from './run-end';
import type { TrainingStatus } from './training-status';

export async function noticeEnd(end: ProcessEnd, status: TrainingStatus, output: vscode.OutputChannel): Promise<void> {
  const report = reportEnd(end, status);
  if (report.severity === 'info') {
    void vscode.window.showInformationMessage(report.message);
    return;
  }
  const action = report.logFile ? 'Open Log' : 'Show Output';
  const chosen = await vscode.window.showErrorMessage(report.message, action);
  if (chosen === undefined) return;
  if (report.logFile) await vscode.window.showTextDocument(vscode.Uri.file(report.logFile), { preview: true });
  else output.show(true);
}
