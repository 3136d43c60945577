// GRPO: Preview on Last Rollout. Scores the last rollout of the live (else the newest) run with
// the reward files as they are on disk now, in a child process, and shows old against new.
import { basename, dirname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../errors';
import { rescoreTable } from '../../rescore/table';
import { RunFolder } from '../../run-folder/run-folder';
import type { HostState } from '../host-state';
import type { RewardPreviews } from '../reward-preview/preview-documents';
import { chooseRunDir, problemLocation, rewardFilesFor } from '../reward-preview/preview-target';
import { runRescore } from '../reward-preview/rescore-process';
import { readSettings } from '../settings';
import { untrustedRefusal } from '../trust';
import { workspaceRunFolders } from '../workspace-runs';

const REWARD_FILE = /\.reward\.[cm]?[jt]s$/;

/** `file`: the reward file the command was run on (editor title, explorer), if any. */
export async function previewReward(state: HostState, previews: RewardPreviews, file?: unknown): Promise<void> {
  const refusal = untrustedRefusal(vscode.workspace.isTrusted, 'Preview on Last Rollout');
  if (refusal) {
    void vscode.window.showErrorMessage(refusal);
    return;
  }
  const target = file instanceof vscode.Uri && file.scheme === 'file' ? file.fsPath : undefined;
  const runDir = chooseRunDir(state.slot.current?.status.runDir, await workspaceRunFolders());
  if (!runDir) {
    void vscode.window.showInformationMessage('GRPO: no run to preview on yet; a preview re-scores the last rollout of a run. Start one with "GRPO: Start Training".');
    return;
  }
  // The preview scores the files on disk: an edit still in the editor would silently not count.
  for (const doc of vscode.workspace.textDocuments) if (doc.isDirty && REWARD_FILE.test(doc.fileName)) await doc.save();

  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const cwd = folders.find((f) => !relative(f, runDir).startsWith('..')) ?? folders[0] ?? dirname(runDir);
  let rewardFiles: string[] | undefined;
  try {
    rewardFiles = rewardFilesFor(target, (await new RunFolder(runDir).config()).rewards.map((r) => r.file));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    void vscode.window.showErrorMessage(`GRPO: ${e.message}`);
    return;
  }

  const settings = readSettings((name) => vscode.workspace.getConfiguration('grpo').get(name));
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `GRPO: scoring the last rollout of ${basename(runDir)} with the reward files as they are now`, cancellable: true },
    (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runRescore({
        cliScript: join(state.extensionPath, 'out', 'cli.js'),
        nodePath: settings.nodePath || undefined, // unset: VS Code's own runtime, run as Node
        cwd,
        runDir,
        rewardFiles,
        signal: abort.signal,
        workspaceTrusted: vscode.workspace.isTrusted,
      });
    },
  );
  if (outcome.type === 'cancelled') return;
  if (outcome.type === 'failed') {
    state.output.appendLine(`reward preview: ${outcome.message}`);
    const at = problemLocation(outcome.message, cwd);
    const open = await vscode.window.showErrorMessage(`GRPO: preview failed: ${outcome.message}`, ...(at ? ['Open File'] : []));
    if (open && at) {
      const position = new vscode.Position(Math.max(0, at.line - 1), Math.max(0, at.column - 1));
      await vscode.window.showTextDocument(vscode.Uri.file(at.file), { selection: new vscode.Range(position, position) });
    }
    return;
  }
  const header =
    `Reward preview, ${new Date().toLocaleString()}. A preview changes nothing in the run.\n` +
    (rewardFiles && target ? `Scored with the run's reward files plus ${vscode.workspace.asRelativePath(target)}, which the run itself does not use.\n` : '') +
    '\n';
  await previews.show(basename(runDir), header + rescoreTable(outcome.report));
}
