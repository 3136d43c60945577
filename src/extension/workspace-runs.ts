// The workspace's run folders, newest first: those under each config's output_dir (which may be
// anywhere) and any under a `.grpo/runs` folder (the default, and runs of configs since moved).
// For Open Run, the previews, and the inline views when no session is training.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { listRunFolders, outputDirOf } from './runs-view/run-list';
import { workspaceConfigFiles } from './workspace-configs';

export async function workspaceRunFolders(): Promise<string[]> {
  const outputDirs = await Promise.all((await workspaceConfigFiles()).map(outputDirOf));
  const found = await vscode.workspace.findFiles('**/.grpo/runs/*/config.json', '**/node_modules/**', 1000);
  return listRunFolders([...outputDirs, ...found.map((u) => dirname(dirname(u.fsPath)))]);
}
