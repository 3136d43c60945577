// The status-bar item shown while a run is in progress; clicking it shows the log.
import * as vscode from 'vscode';
import { CommandId } from './command-ids';
import type { SessionSlot } from './session-slot';
import { statusText } from './training-status';

export function showTrainingStatus(slot: SessionSlot): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('grpo.training', vscode.StatusBarAlignment.Left, 10);
  item.name = 'GRPO Training';
  item.command = CommandId.ShowLog;
  item.tooltip = 'GRPO Studio: training in progress (click for the log)';
  let watching: vscode.Disposable | undefined;
  const follow = () => {
    watching?.dispose();
    const session = slot.current;
    if (!session) return item.hide();
    item.text = statusText(session.status);
    item.show();
    watching = session.onDidChangeStatus((s) => (item.text = statusText(s)));
  };
  const subscription = slot.onDidChange(follow);
  return new vscode.Disposable(() => {
    watching?.dispose();
    subscription.dispose();
    item.dispose();
  });
}
