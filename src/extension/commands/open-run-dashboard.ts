// The Runs view's "Open Dashboard": the dashboard of the run the item belongs to (live when this
// window's session trains it, read-only otherwise). Without an item, a run to pick.
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import type { HostState } from '../host-state';
import { runDirOf } from '../runs-view/run-nodes';
import { openRun } from './open-run';

export async function openRunDashboard(state: HostState, arg?: unknown): Promise<void> {
  const runDir = runDirOf(arg);
  if (runDir === undefined) return openRun(state);
  try {
    await state.dashboards.openPastRun(runDir);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(`GRPO: ${e.message}`);
  }
}
