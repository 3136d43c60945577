// GRPO: Open Run. A past run's dashboard, read-only, from the run folders under the workspace.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import type { HostState } from '../host-state';

export async function openRun(state: HostState): Promise<void> {
  // Every run folder has a config snapshot and a metrics file next to its checkpoints folder.
  const found = await vscode.workspace.findFiles('**/.grpo/runs/*/config.json', '**/node_modules/**', 200);
  const runs = found.map((u) => dirname(u.fsPath)).sort().reverse(); // run ids are timestamps: newest first
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('GRPO: no runs in this workspace yet (they are written to .grpo/runs/). Start one with "GRPO: Start Training".');
    return;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.split(/[\\/]/).pop()!, description: vscode.workspace.asRelativePath(r), runDir: r })),
    { placeHolder: 'Open the dashboard of a run' },
  );
  if (!picked) return;
  try {
    await state.dashboards.openPastRun(picked.runDir);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(`GRPO: ${e.message}`);
  }
}
