// Tells the user loudly that training stopped teaching the model anything. The trainer process
// has already paused the run at the iteration boundary (src/trainer-process/session.ts); the
// notice says why and offers the ways on.
import * as vscode from 'vscode';
import type { TrainerEvent } from '../trainer/events';
import { CommandId } from './command-ids';
import type { TrainingSession } from './training-session';

type NoSignal = Extract<TrainerEvent, { type: 'no-learning-signal' }>;

export async function noticeNoSignal(e: NoSignal, session: TrainingSession): Promise<void> {
  const chosen = await vscode.window.showWarningMessage(`GRPO: training is paused. ${e.message}.`, 'Resume', 'Open Dashboard', 'Stop');
  if (chosen === 'Resume') session.resume();
  else if (chosen === 'Stop') await session.stop();
  else if (chosen === 'Open Dashboard') await vscode.commands.executeCommand(CommandId.OpenDashboard);
}
