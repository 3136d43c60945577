// GRPO: Resume Run: continues a stopped run from its newest checkpoint, as `grpo train --resume`
// does, with the run's own settings. Its dashboard (open or not) becomes the live one.
import * as vscode from 'vscode';
import { dirname, relative } from 'node:path';
import { UserError } from '../../errors';
import type { HostState } from '../host-state';
import { runDirOf } from '../runs-view/run-nodes';
import { readSettings } from '../settings';
import { prepareResume } from '../start-config';
import { untrustedRefusal } from '../trust';
import { alreadyRunning, launchSession } from './start-training';

export async function resumeRun(state: HostState, arg?: unknown): Promise<void> {
  const refusal = untrustedRefusal(vscode.workspace.isTrusted, 'training');
  if (refusal) {
    void vscode.window.showErrorMessage(refusal);
    return;
  }
  const runDir = runDirOf(arg) ?? (await pickRunFolder());
  if (!runDir || alreadyRunning(state)) return;
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const workspaceRoot = folders.find((f) => !relative(f, runDir).startsWith('..')) ?? dirname(dirname(runDir));
  try {
    const prepared = await prepareResume(runDir, workspaceRoot);
    state.output.appendLine(`resuming ${runDir}`);
    launchSession(state, prepared, workspaceRoot, readSettings((name) => vscode.workspace.getConfiguration('grpo').get(name)));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(`GRPO: ${e.message}`);
  }
}

async function pickRunFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Resume Run', title: 'GRPO: the run folder to resume' });
  return picked?.[0]?.fsPath;
}
