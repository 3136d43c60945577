// Quick picks over workspace files, with a "Browse..." entry for a file elsewhere.
import * as vscode from 'vscode';

const EXCLUDE = '{**/node_modules/**,**/.grpo/**,**/.git/**}';
const BROWSE = 'Browse...';

export async function findWorkspaceFiles(glob: string, max = 200): Promise<string[]> {
  return (await vscode.workspace.findFiles(glob, EXCLUDE, max)).map((u) => u.fsPath).sort();
}

function label(path: string): string {
  return vscode.workspace.asRelativePath(path, true);
}

/** One path from `candidates`, or one chosen in a file dialog. */
export async function pickOne(candidates: string[], title: string, folders: boolean): Promise<string | undefined> {
  const items = [...candidates.map((p) => ({ label: label(p), path: p })), { label: BROWSE, path: '' }];
  const chosen = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  if (!chosen) return undefined;
  if (chosen.path !== '') return chosen.path;
  const picked = await vscode.window.showOpenDialog({ title, canSelectFiles: !folders, canSelectFolders: folders, canSelectMany: false });
  return picked?.[0]?.fsPath;
}

/** Some of `candidates`; at least one. */
export async function pickSome(candidates: string[], title: string): Promise<string[] | undefined> {
  const items = candidates.map((p) => ({ label: label(p), path: p, picked: candidates.length === 1 }));
  const chosen = await vscode.window.showQuickPick(items, { title, canPickMany: true, ignoreFocusOut: true });
  return chosen && chosen.length > 0 ? chosen.map((c) => c.path) : undefined;
}
