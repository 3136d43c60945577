// The run a control command acts on, or a message that there is none.
import * as vscode from 'vscode';
import type { HostState } from '../host-state';
import type { TrainingSession } from '../training-session';

export function withSession(state: HostState, act: (session: TrainingSession) => unknown): void {
  const session = state.slot.current;
  if (!session) {
    void vscode.window.showInformationMessage('GRPO: no training run is in progress.');
    return;
  }
  void act(session);
}
