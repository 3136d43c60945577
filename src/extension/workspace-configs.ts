// The workspace's training configs, without asking: the grpo.configFile setting's first, then the
// config files found, shallowest first. For views and commands that read configs, not train.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME, configFromSetting, orderConfigCandidates } from './config-discovery';
import { findWorkspaceFiles } from './pick-files';
import { readSettings } from './settings';

export async function workspaceConfigFiles(): Promise<string[]> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const settings = readSettings((name) => vscode.workspace.getConfiguration('grpo').get(name));
  const fromSetting = configFromSetting(settings.configFile, folders);
  const found = orderConfigCandidates(await findWorkspaceFiles(`**/${CONFIG_FILE_NAME}`, 50), folders);
  const all = fromSetting !== undefined && existsSync(fromSetting) ? [fromSetting, ...found] : found;
  return [...new Set(all)];
}
