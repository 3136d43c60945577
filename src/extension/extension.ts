// The extension's entry point: registers the commands and the status bar. Training runs in a
// child process (./training-session); nothing here computes tensors or runs reward code.
import * as vscode from 'vscode';
import { CommandId } from './command-ids';
import { newTrainingConfig } from './commands/new-training-config';
import { openDashboard } from './commands/open-dashboard';
import { openRun } from './commands/open-run';
import { openRunDashboard } from './commands/open-run-dashboard';
import { exportModel } from './commands/export-model';
import { newRewardFunction } from './commands/new-reward-function';
import { openRewardApi } from './commands/open-reward-api';
import { pauseTraining } from './commands/pause-training';
import { previewReward } from './commands/preview-reward';
import { resumeRun } from './commands/resume-run';
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
import { registerCompletionDocuments } from './completion-document/completion-documents';
import { SessionSlot } from './session-slot';
import { RunsView } from './runs-view/runs-view';
import { RewardPreviews } from './reward-preview/preview-documents';
import { showTrainingStatus } from './status-bar';
import { registerRewardDiagnostics } from './reward-diagnostics/reward-diagnostics';
import { registerRewardLens } from './reward-lens/reward-lens';
import { isRewardSampleArgs, rewardSample } from './reward-lens/open-reward-sample';
import { registerDatasetDecorations } from './dataset-decorations/dataset-decorations';

let state: HostState | undefined;

export function activate(context: vscode.ExtensionContext): HostState {
  const slot = new SessionSlot();
  const output = vscode.window.createOutputChannel('GRPO Studio');
  const completions = registerCompletionDocuments(context, (line) => output.appendLine(line));
  const link: DashboardLink = new DashboardLink(slot, () => dashboards);
  const dashboards = new Dashboards({
    extensionUri: context.extensionUri,
    memento: context.workspaceState,
    sessionFor: (runDir) => link.controlsFor(runDir),
    openCompletion: (ref) => void openCompletion(completions, ref).catch((e: Error) => output.appendLine(`open completion: ${e.message}`)),
    log: (line) => output.appendLine(line),
  });
  state = { slot, output, extensionPath: context.extensionPath, dashboards };
  const host = state;
  const rewardPreviews = new RewardPreviews();
  context.subscriptions.push(rewardPreviews);
  const runsView = new RunsView(slot, (line) => output.appendLine(line));
  // Commands run from a view item get that item as their argument.
  const commands: Record<CommandId, (arg?: unknown) => unknown> = {
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
    [CommandId.SwitchCompletionColouring]: () => completions.switchColouring(),
    [CommandId.OpenRunDashboard]: (arg) => openRunDashboard(host, arg),
    [CommandId.ResumeRun]: (arg) => resumeRun(host, arg),
    [CommandId.OpenRewardSample]: async (arg) => {
      if (!isRewardSampleArgs(arg)) return;
      const ref = await rewardSample(arg).catch((e: Error) => void vscode.window.showErrorMessage(`GRPO: ${e.message}`));
      if (ref) await openCompletion(completions, ref).catch((e: Error) => output.appendLine(`open sample: ${e.message}`));
    },
    [CommandId.RefreshRuns]: () => runsView.refresh(),
    [CommandId.NewRewardFunction]: () => newRewardFunction(context.extensionPath),
    [CommandId.ExportModel]: (arg) => exportModel(host, arg),
    [CommandId.PreviewReward]: (arg) => previewReward(host, rewardPreviews, arg),
    [CommandId.OpenRewardApi]: () => openRewardApi(context.extensionPath),
  };
  for (const [id, run] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, run));
  context.subscriptions.push(slot, output, showTrainingStatus(slot), link, dashboards, dashboards.registerSerializer(), runsView);
  context.subscriptions.push(registerRewardDiagnostics(slot));
  context.subscriptions.push(registerRewardLens(slot, (line) => output.appendLine(line)));
  context.subscriptions.push(registerDatasetDecorations(slot, (line) => output.appendLine(line)));
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
