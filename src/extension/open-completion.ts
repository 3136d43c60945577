// A completion picked in the dashboard, shown where it is stored: its line of the iteration's
// rollouts file, opened beside the dashboard.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { iterName } from '../trainer/run-dir';
import type { CompletionRef } from './dashboard/dashboard-channel';

export async function openCompletion(ref: CompletionRef): Promise<void> {
  const file = join(ref.runDir, 'rollouts', `${iterName(ref.iteration)}.jsonl`);
  const lines = (await readFile(file, 'utf8')).split('\n');
  const line = lines.findIndex((l) => {
    if (l.trim() === '') return false;
    const r = JSON.parse(l) as { group: number; member: number };
    return r.group === ref.group && r.member === ref.member;
  });
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const at = new vscode.Range(Math.max(0, line), 0, Math.max(0, line), 0);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: at, preview: true });
}
