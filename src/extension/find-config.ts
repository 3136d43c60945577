// The config a run trains with: the grpo.configFile setting, the workspace's one config, a pick
// among several, or a new one the user creates.
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME, configFromSetting, orderConfigCandidates } from './config-discovery';
import { createTrainingConfig } from './create-config';
import { findWorkspaceFiles } from './pick-files';
import type { GrpoSettings } from './settings';

export async function chooseConfigFile(settings: GrpoSettings, folders: string[]): Promise<string | undefined> {
  const fromSetting = configFromSetting(settings.configFile, folders);
  if (fromSetting !== undefined) return fromSetting; // a missing file is reported when it is read, naming the setting
  const found = orderConfigCandidates(await findWorkspaceFiles(`**/${CONFIG_FILE_NAME}`, 50), folders);
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    const items = found.map((path) => ({ label: vscode.workspace.asRelativePath(path, true), path }));
    const chosen = await vscode.window.showQuickPick(items, { title: 'GRPO: which training config? (the grpo.configFile setting picks one for good)' });
    return chosen?.path;
  }
  const create = await vscode.window.showInformationMessage(
    `GRPO: there is no ${CONFIG_FILE_NAME} in this workspace. Create one from a model folder, a dataset and reward files?`,
    'Create Config',
  );
  return create ? createTrainingConfig(folders[0]) : undefined;
}
