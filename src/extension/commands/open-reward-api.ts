// GRPO: Reward API Reference: how to write a reward (src/rewards/README.md, packaged with the
// extension, and the page README.md links to), in the Markdown preview.
import { join } from 'node:path';
import * as vscode from 'vscode';

/** The reference's place inside the extension, as in the repository. */
export const REWARD_API_DOC = join('src', 'rewards', 'README.md');

export async function openRewardApi(extensionPath: string): Promise<void> {
  await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(join(extensionPath, REWARD_API_DOC)));
}
