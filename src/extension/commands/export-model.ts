// GRPO: Export Model. A checkpoint's Hugging Face model folder (the Runs view's checkpoint, or
// one picked) copied to <folder>/<run>-iter-N. Copies files and runs no code, so it works in
// Restricted Mode too.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import { exportCheckpoint, exportFolderName } from '../export-checkpoint';
import { completeCheckpoints, listRunFolders, outputDirOf, type CheckpointEntry } from '../runs-view/run-list';
import { checkpointOf } from '../runs-view/run-nodes';
import { workspaceConfigFiles } from '../workspace-configs';

export async function exportModel(arg?: unknown): Promise<void> {
  const checkpoint = checkpointOf(arg) ?? (await pickCheckpoint());
  if (!checkpoint) return;
  const name = exportFolderName(basename(checkpoint.runDir), checkpoint.iteration);
  const dest = await vscode.window.showOpenDialog({
    title: `GRPO: export the model ${name} into which folder?`,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Export Here',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  if (!dest?.[0]) return;

  let target: string;
  try {
    target = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `GRPO: exporting ${name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let shown = 0; // percent
        return exportCheckpoint(checkpoint.path, dest[0].fsPath, name, {
          signal: abort.signal,
          onProgress: (copied, total) => {
            const percent = total === 0 ? 100 : (100 * copied) / total;
            progress.report({ increment: percent - shown, message: `${megabytes(copied)} of ${megabytes(total)} MB` });
            shown = percent;
          },
        });
      },
    );
  } catch (e) {
    if ((e as Error).name === 'AbortError') return; // cancelled: nothing was left behind
    const reason = e instanceof UserError ? e.message : `export failed, nothing was written: ${(e as Error).message}`;
    void vscode.window.showErrorMessage(`GRPO: ${reason}`);
    return;
  }
  const reveal = await vscode.window.showInformationMessage(`GRPO: exported the model to ${target}`, 'Reveal');
  if (reveal) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
}

/** Every complete checkpoint of the workspace's runs, newest first, to pick one. */
async function pickCheckpoint(): Promise<CheckpointEntry | undefined> {
  const outputDirs = await Promise.all((await workspaceConfigFiles()).map(outputDirOf));
  const checkpoints: CheckpointEntry[] = [];
  for (const run of await listRunFolders(outputDirs)) checkpoints.push(...(await completeCheckpoints(run)));
  if (checkpoints.length === 0) {
    void vscode.window.showInformationMessage(
      'GRPO: no checkpoints in this workspace yet. A run saves one every checkpoint_every iterations and when it stops.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    checkpoints.map((c) => ({ label: `${basename(c.runDir)} · iter ${c.iteration}`, description: vscode.workspace.asRelativePath(c.path), checkpoint: c })),
    { title: 'GRPO: export which checkpoint?', placeHolder: 'Newest first' },
  );
  return picked?.checkpoint;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
