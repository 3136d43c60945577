// Reward files that do not compile, in the Problems panel: from the trainer's reload and start
// failures (./reward-problems), on the file and line the trainer named.
import * as vscode from 'vscode';
import type { SessionSlot } from '../session-slot';
import { nextRewardProblems, noRewardProblems, problemsByFile, type RewardProblems } from './reward-problems';

export function registerRewardDiagnostics(slot: SessionSlot): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('grpo-rewards');
  let problems = noRewardProblems;
  let following: vscode.Disposable | undefined;
  const show = () => {
    collection.clear();
    for (const [file, list] of problemsByFile(problems)) {
      collection.set(
        vscode.Uri.file(file),
        list.map((p) => {
          const at = new vscode.Position(p.line, p.character);
          const d = new vscode.Diagnostic(new vscode.Range(at, at), p.message, vscode.DiagnosticSeverity.Error);
          d.source = 'GRPO Studio';
          return d;
        }),
      );
    }
  };
  const sessions = slot.onDidChange((session) => {
    if (!session) return;
    // A new start compiles every reward file again: what it finds wrong, it reports anew.
    following?.dispose();
    problems = noRewardProblems;
    show();
    following = session.onEvent((e) => {
      const next: RewardProblems = nextRewardProblems(problems, e, session.workspaceRoot);
      if (next === problems) return;
      problems = next;
      show();
    });
  });
  return vscode.Disposable.from(collection, sessions, { dispose: () => following?.dispose() });
}
