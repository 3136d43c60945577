// The extension's entry point: registers the commands and the status bar. Training runs in a
// child process (./training-session); nothing here computes tensors or runs reward code.
import * as vscode from 'vscode';
import { CommandId } from './command-ids';
import { newTrainingConfig } from './commands/new-training-config';
import { openDashboard } from './commands/open-dashboard';
import { openRun } from './commands/open-run';
import { pauseTraining } from './commands/pause-training';
import { resumeTraining } from './commands/resume-training';
import { runOneIteration } from './commands/run-one-iteration';
import { saveCheckpointNow } from './commands/save-checkpoint-now';
import { showLog } from './commands/show-log';
import { startTraining } from './commands/start-training';
import { stopTraining } from './commands/stop-training';
import type { HostState } from './host-state';
import { Dashboards } from './dashboard/dashboards';
import { DashboardLink } from './dashboard-link';
import { openCompletion } from './open-completion';
import { SessionSlot } from './session-slot';
import { showTrainingStatus } from './status-bar';

let state: HostState | undefined;

export function activate(context: vscode.ExtensionContext): HostState {
  const slot = new SessionSlot();
  const output = vscode.window.createOutputChannel('GRPO Studio');
  const link: DashboardLink = new DashboardLink(slot, () => dashboards);
  const dashboards = new Dashboards({
    extensionUri: context.extensionUri,
    memento: context.workspaceState,
    sessionFor: (runDir) => link.controlsFor(runDir),
    openCompletion: (ref) => void openCompletion(ref).catch((e: Error) => output.appendLine(`open completion: ${e.message}`)),
    log: (line) => output.appendLine(line),
  });
  state = { slot, output, extensionPath: context.extensionPath, dashboards };
  const host = state;
  const commands: Record<CommandId, () => unknown> = {
    [CommandId.StartTraining]: () => startTraining(host),
    [CommandId.StopTraining]: () => stopTraining(host),
    [CommandId.PauseTraining]: () => pauseTraining(host),
    [CommandId.ResumeTraining]: () => resumeTraining(host),
    [CommandId.RunOneIteration]: () => runOneIteration(host),
    [CommandId.SaveCheckpointNow]: () => saveCheckpointNow(host),
    [CommandId.NewTrainingConfig]: () => newTrainingConfig(),
    [CommandId.ShowLog]: () => showLog(host),
    [CommandId.OpenDashboard]: () => openDashboard(host),
    [CommandId.OpenRun]: () => openRun(host),
  };
  for (const [id, run] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, run));
  context.subscriptions.push(slot, output, showTrainingStatus(slot), link, dashboards, dashboards.registerSerializer());
  return host;
}

/**
 * A run still in progress is asked to stop (it saves a checkpoint at its iteration boundary);
 * VS Code waits only a few seconds for deactivate, so it is ended by force soon after.
 */
export async function deactivate(): Promise<void> {
  await state?.slot.current?.stop({ graceMs: 3000, killMs: 1000 });
  state = undefined;
}
