// GRPO: Export Model. A checkpoint (the Runs view's, or one picked) written to
// <folder>/<run>-iter-N: a full fine-tuning checkpoint's Hugging Face model folder copied; a
// LoRA checkpoint, as the user picks, copied as its PEFT adapter (<run>-iter-N-adapter) or
// merged into its base by `grpo merge` (<run>-iter-N-merged).
//
// Works in Restricted Mode, both forms. The copy runs nothing. The merge runs the extension's
// own CLI, which reads weights, configs and tokenizer files and executes none of the workspace's
// code (no reward files, no build); the Node it runs on is grpo.nodePath, a restricted setting,
// so in Restricted Mode VS Code takes it from the user's settings only, never the workspace's.
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import { chooseExportForm, type ExportForm } from '../export/export-choice';
import { exportCheckpoint, exportFolderName } from '../export/export-checkpoint';
import { exportMerged } from '../export/export-merged';
import type { HostState } from '../host-state';
import { completeCheckpoints, listRunFolders, outputDirOf, type CheckpointEntry } from '../runs-view/run-list';
import { checkpointOf } from '../runs-view/run-nodes';
import { readSettings } from '../settings';
import { workspaceConfigFiles } from '../workspace-configs';

export async function exportModel(state: HostState, arg?: unknown): Promise<void> {
  const checkpoint = checkpointOf(arg) ?? (await pickCheckpoint());
  if (!checkpoint) return;
  const form = await chooseExportForm(checkpoint, (choices) =>
    vscode.window.showQuickPick(choices, { title: `GRPO: export iter ${checkpoint.iteration} of ${basename(checkpoint.runDir)}, a LoRA adapter, as` }),
  );
  if (!form) return;
  const name = exportFolderName(basename(checkpoint.runDir), checkpoint.iteration, form === 'model' ? undefined : form);
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
    target = await writeExport(state, form, checkpoint.path, dest[0].fsPath, name);
  } catch (e) {
    if ((e as Error).name === 'AbortError') return; // cancelled: nothing was left behind
    const reason = e instanceof UserError ? e.message : `export failed, nothing was written: ${(e as Error).message}`;
    state.output.appendLine(`export ${name}: ${reason}`);
    void vscode.window.showErrorMessage(`GRPO: ${reason}`);
    return;
  }
  const reveal = await vscode.window.showInformationMessage(`GRPO: exported the model to ${target}`, 'Reveal');
  if (reveal) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
}

/** Writes the export under a cancellable progress notification; returns the folder written. */
function writeExport(state: HostState, form: ExportForm, checkpoint: string, destDir: string, name: string): Thenable<string> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `GRPO: exporting ${name}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      if (form === 'merged') {
        progress.report({ message: 'folding the adapter into the base model' });
        const settings = readSettings((n) => vscode.workspace.getConfiguration('grpo').get(n));
        return exportMerged(checkpoint, destDir, name, {
          cliScript: join(state.extensionPath, 'out', 'cli.js'),
          nodePath: settings.nodePath || undefined, // unset: VS Code's own runtime, run as Node
          backend: settings.backend,
          signal: abort.signal,
        });
      }
      let shown = 0; // percent
      return exportCheckpoint(checkpoint, destDir, name, {
        signal: abort.signal,
        onProgress: (copied, total) => {
          const percent = total === 0 ? 100 : (100 * copied) / total;
          progress.report({ increment: percent - shown, message: `${megabytes(copied)} of ${megabytes(total)} MB` });
          shown = percent;
        },
      });
    },
  );
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
    checkpoints.map((c) => ({ label: `${basename(c.runDir)} · iter ${c.iteration}${c.adapter ? ' · LoRA adapter' : ''}`, description: vscode.workspace.asRelativePath(c.path), checkpoint: c })),
    { title: 'GRPO: export which checkpoint?', placeHolder: 'Newest first' },
  );
  return picked?.checkpoint;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
