// What the commands share: the run slot, the log channel, and where the extension's bundle lives.
import type * as vscode from 'vscode';
import type { Dashboards } from './dashboard/dashboards';
import type { SessionSlot } from './session-slot';

export interface HostState {
  slot: SessionSlot;
  /** "GRPO Studio": the trainer's log lines and output. */
  output: vscode.OutputChannel;
  /** The extension's folder; out/trainer-process.js is inside it. */
  extensionPath: string;
  /** The open dashboards, one per run folder. */
  dashboards: Dashboards;
}
