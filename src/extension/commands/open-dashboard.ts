// GRPO: Open Dashboard. The running session's dashboard; without one, a past run to pick.
import * as vscode from 'vscode';
import type { HostState } from '../host-state';
import { openRun } from './open-run';

export async function openDashboard(state: HostState): Promise<void> {
  const runDir = state.slot.current?.status.runDir;
  if (runDir) {
    await state.dashboards.show(runDir);
    return;
  }
  if (state.slot.current) {
    void vscode.window.showInformationMessage('GRPO: the run is starting; its dashboard opens when the trainer has made its run folder.');
    return;
  }
  await openRun(state);
}
