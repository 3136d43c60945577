// CodeLenses above each reward function of the current run's reward files: its latest mean,
// std and error count, and links to the latest rollout's best and worst completion by that
// function and to the run's dashboard.
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import type { MetricsLine } from '../../protocol/dashboard-messages';
import { CommandId } from '../command-ids';
import { CurrentRun } from '../run-state/current-run';
import type { SessionSlot } from '../session-slot';
import { readLensData, type LensData } from './lens-data';
import { rewardDeclarations } from './reward-declarations';
import { lensTitle } from './reward-stats';

class RewardLensProvider implements vscode.CodeLensProvider {
  private data: LensData | undefined;
  /** Reads may finish out of order: only the newest one's data is shown. */
  private reads = 0;
  private readonly changes = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changes.event;

  /** Rereads the run folder; one that cannot be read (damaged, not a run) shows no lenses. */
  async refresh(runDir: string, log: (line: string) => void, latest?: MetricsLine): Promise<void> {
    const read = ++this.reads;
    let data: LensData | undefined;
    try {
      data = await readLensData(runDir, latest);
    } catch (e) {
      log(`reward lenses: ${(e as Error).message}`);
    }
    if (read !== this.reads) return;
    this.data = data;
    this.changes.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const data = this.data;
    if (!data || !data.rewardFiles.includes(resolve(document.uri.fsPath))) return [];
    return rewardDeclarations(document.getText(), document.uri.fsPath).flatMap(({ name, line }) => {
      const stat = data.stats.get(name);
      if (!stat) return [];
      const at = new vscode.Range(line, 0, line, 0);
      return [
        new vscode.CodeLens(at, { title: lensTitle(stat), command: '' }),
        new vscode.CodeLens(at, { title: 'best sample', command: CommandId.OpenRewardSample, arguments: [{ runDir: data.runDir, fn: name, which: 'best' }], tooltip: `The latest rollout's completion that ${name} scored highest` }),
        new vscode.CodeLens(at, { title: 'worst sample', command: CommandId.OpenRewardSample, arguments: [{ runDir: data.runDir, fn: name, which: 'worst' }], tooltip: `The latest rollout's completion that ${name} scored lowest` }),
        new vscode.CodeLens(at, { title: 'dashboard', command: CommandId.OpenRunDashboard, arguments: [data.runDir], tooltip: 'The run\'s dashboard: its curves and all its rollouts' }),
      ];
    });
  }

  dispose(): void {
    this.changes.dispose();
  }
}

export function registerRewardLens(slot: SessionSlot, log: (line: string) => void): vscode.Disposable {
  const provider = new RewardLensProvider();
  const run = new CurrentRun(slot);
  const refresh = (runDir: string, latest?: MetricsLine) => void provider.refresh(runDir, log, latest);
  const changes = run.onDidChange((c) => refresh(c.runDir, c.metrics));
  if (run.runDir) refresh(run.runDir);
  const registration = vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'typescript' }, { scheme: 'file', language: 'javascript' }], provider);
  return vscode.Disposable.from(registration, changes, run, provider);
}
