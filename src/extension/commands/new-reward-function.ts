// GRPO: New Reward Function. Writes <name>.reward.ts from a starter (never over an existing
// file), opens it, and offers to list it in the config's rewards. Writes files but runs no
// code, so it works in Restricted Mode too.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import { rewardFileName, rewardFileText, rewardFolderFor, rewardListInsertion, rewardNameProblem } from '../reward-file';
import { ensureRewardTypes, REWARD_TYPES_PATH } from '../reward-types';
import { workspaceConfigFiles } from '../workspace-configs';

export async function newRewardFunction(extensionPath: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) {
    void vscode.window.showErrorMessage('GRPO: open a folder first; the reward file is written into it.');
    return;
  }
  const [configFile] = await workspaceConfigFiles();
  const dir = rewardFolderFor(configFile === undefined ? undefined : { file: configFile, text: readText(configFile) }, folder);
  const name = (
    await vscode.window.showInputBox({
      title: 'GRPO: New Reward Function',
      prompt: `Names the file and the function it exports; written to ${vscode.workspace.asRelativePath(dir, true)}`,
      placeHolder: 'answerFormat',
      ignoreFocusOut: true,
      validateInput: (value) => {
        const v = value.trim();
        return rewardNameProblem(v) ?? (existsSync(join(dir, rewardFileName(v))) ? `${rewardFileName(v)} exists there; choose another name` : undefined);
      },
    })
  )?.trim();
  if (!name) return;

  const file = join(dir, rewardFileName(name));
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, rewardFileText(name), { flag: 'wx' }); // fails rather than overwrite
  } catch (e) {
    void vscode.window.showErrorMessage(`GRPO: cannot write ${file}: ${(e as Error).message}`);
    return;
  }
  await setUpTypes(dir, extensionPath);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  if (configFile !== undefined) await offerToList(configFile, file);
}

/** The editor learns the types of `grpo-studio/reward` (./reward-types); a failure costs only that. */
async function setUpTypes(dir: string, extensionPath: string): Promise<void> {
  try {
    const declarations = await readFile(join(extensionPath, 'types', 'reward.d.ts'), 'utf8');
    const { ownTsconfig } = await ensureRewardTypes(dir, declarations);
    if (ownTsconfig) {
      void vscode.window.showInformationMessage(
        `GRPO: ${vscode.workspace.asRelativePath(ownTsconfig, true)} is yours and was left alone; for types in reward files, add "paths": { "grpo-studio/reward": ["./${REWARD_TYPES_PATH}"] } to its compilerOptions.`,
      );
    }
  } catch (e) {
    void vscode.window.showWarningMessage(`GRPO: the reward file was written, but not its editor types: ${(e as Error).message}`);
  }
}

async function offerToList(configFile: string, rewardFile: string): Promise<void> {
  const configName = vscode.workspace.asRelativePath(configFile, true);
  const add = await vscode.window.showInformationMessage(
    `GRPO: train with ${vscode.workspace.asRelativePath(rewardFile, true)}? It is added to the rewards of ${configName}.`,
    'Add to Config',
  );
  if (!add) return;
  const doc = await vscode.workspace.openTextDocument(configFile); // its unsaved edits included
  let insertion;
  try {
    insertion = rewardListInsertion(doc.getText(), configFile, rewardFile);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(`GRPO: ${e.message}`);
    return;
  }
  if (!insertion) return; // already listed
  const edit = new vscode.WorkspaceEdit();
  edit.insert(doc.uri, doc.positionAt(insertion.offset), insertion.text);
  if ((await vscode.workspace.applyEdit(edit)) && (await doc.save())) return;
  void vscode.window.showErrorMessage(`GRPO: could not edit ${configName}; add { "file": ... } for the new reward to its "rewards" list by hand.`);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // gone since it was found: the file goes to rewards/ beside where it was
  }
}
