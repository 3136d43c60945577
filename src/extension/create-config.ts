// Writes a new grpo.config.json from a model folder, a dataset and reward files the user picks.
import * as vscode from 'vscode';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONFIG_FILE_NAME } from './config-discovery';
import { isModelConfigFile, newTrainingConfigText } from './new-config';
import { findWorkspaceFiles, pickOne, pickSome } from './pick-files';

/** The written config's path, or undefined when the user cancelled or something is missing. */
export async function createTrainingConfig(folder: string): Promise<string | undefined> {
  const models = (await findWorkspaceFiles('**/config.json')).filter(isModelConfigFile).map(dirname);
  const modelDir = await pickOne(models, 'GRPO: the model folder to train (config.json, *.safetensors, tokenizer.json)', true);
  if (!modelDir) return undefined;
  const dataset = await pickOne(await findWorkspaceFiles('**/*.jsonl'), 'GRPO: the training prompts (JSONL with a "prompt" column)', false);
  if (!dataset) return undefined;
  const rewardFiles = await findWorkspaceFiles('**/*.reward.{ts,mts,js,mjs}');
  if (rewardFiles.length === 0) {
    void vscode.window.showErrorMessage(
      'GRPO: no reward files in this workspace; write one named like answer.reward.ts (exporting reward functions), then create the config again.',
    );
    return undefined;
  }
  const rewards = await pickSome(rewardFiles, 'GRPO: the reward files (*.reward.ts) to train with');
  if (!rewards) return undefined;
  const configFile = join(folder, CONFIG_FILE_NAME);
  if (existsSync(configFile)) {
    const overwrite = await vscode.window.showWarningMessage(`${configFile} exists. Replace it?`, { modal: true }, 'Replace');
    if (overwrite !== 'Replace') return undefined;
  }
  writeFileSync(configFile, newTrainingConfigText({ configFile, modelDir, dataset, rewardFiles: rewards }));
  await vscode.window.showTextDocument(vscode.Uri.file(configFile), { preview: false });
  return configFile;
}
