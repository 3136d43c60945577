// GRPO: Start Training. Refused in an untrusted workspace and while a run is in progress.
import * as vscode from 'vscode';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../../errors';
import { noticeEnd } from '../end-notice';
import { noticeNoSignal } from '../no-signal-notice';
import { chooseConfigFile } from '../find-config';
import type { HostState } from '../host-state';
import { readSettings, type GrpoSettings } from '../settings';
import { prepareStart, type PreparedStart } from '../start-config';
import { logTrainerEvent } from '../trainer-log';
import { TrainingSession } from '../training-session';
import { untrustedRefusal } from '../trust';

export async function startTraining(state: HostState): Promise<void> {
  const refusal = untrustedRefusal(vscode.workspace.isTrusted, 'training');
  if (refusal) {
    const manage = await vscode.window.showErrorMessage(refusal, 'Manage Workspace Trust');
    if (manage) await vscode.commands.executeCommand('workbench.trust.manage');
    return;
  }
  if (alreadyRunning(state)) return;
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('GRPO: open the folder that holds your model, dataset and reward files, then start training.');
    return;
  }
  const settings = readSettings((name) => vscode.workspace.getConfiguration('grpo').get(name));
  const configFile = await chooseConfigFile(settings, folders);
  if (!configFile || alreadyRunning(state)) return;
  await vscode.workspace.textDocuments.find((d) => d.uri.fsPath === configFile && d.isDirty)?.save();
  const workspaceRoot = folders.find((f) => !relative(f, configFile).startsWith('..')) ?? dirname(configFile);

  let prepared: PreparedStart;
  try {
    prepared = prepareStart(configFile, workspaceRoot, settings);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const open = await vscode.window.showErrorMessage(`GRPO: ${e.message}`, 'Open Config');
    if (open) await vscode.window.showTextDocument(vscode.Uri.file(configFile));
    return;
  }
  state.output.appendLine(`starting training with ${configFile}`);
  launchSession(state, prepared, workspaceRoot, settings);
}

/** Forks the trainer for `prepared` and holds it as the window's session. */
export function launchSession(state: HostState, prepared: PreparedStart, workspaceRoot: string, settings: GrpoSettings): void {
  for (const w of prepared.warnings) state.output.appendLine(`warning: ${w}`);
  let session: TrainingSession;
  try {
    session = new TrainingSession(prepared, {
      script: join(state.extensionPath, 'out', 'trainer-process.js'),
      nodePath: settings.nodePath || undefined, // unset: VS Code's own runtime, run as Node
      backend: settings.backend === 'auto' ? undefined : settings.backend,
      pythonPath: settings.pythonPath || undefined,
      cwd: workspaceRoot,
      stopGraceMs: settings.stopGraceMs,
    });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(e.message); // Restricted Mode, where a caller did not check it first
    return;
  }
  session.onEvent((e) => {
    logTrainerEvent(state.output, e);
    if (e.type === 'no-learning-signal') void noticeNoSignal(e, session);
  });
  void session.ended.then((end) => noticeEnd(end, session.status, state.output));
  state.slot.hold(session);
}

export function alreadyRunning(state: HostState): boolean {
  if (!state.slot.current) return false;
  void vscode.window.showInformationMessage('GRPO: a run is already in progress; stop it before starting another.');
  return true;
}
