// GRPO: Open Run. A past run's dashboard, read-only, from the run folders under the workspace.
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import type { HostState } from '../host-state';
import { workspaceRunFolders } from '../workspace-runs';

export async function openRun(state: HostState): Promise<void> {
  const runs = await workspaceRunFolders(); // newest first
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('GRPO: no runs in this workspace yet (they are written to the config\'s output_dir, .grpo/runs/ by default). Start one with "GRPO: Start Training".');
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
