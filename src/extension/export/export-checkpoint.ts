// Export Model, copied form: a checkpoint's model folder copied out of the run, without the
// files only a resume needs. A full fine-tuning checkpoint is a Hugging Face model folder; a
// LoRA run's is a PEFT adapter folder, copied as it is (adapter_config.json,
// adapter_model.safetensors, tokenizer files) for PeftModel.from_pretrained.
import { copyFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../../errors';
import { checkpointPathProblem, isCompleteCheckpoint, RESUME_ONLY_FILES, STATE_FILE } from '../../trainer/checkpoint-files';
import { writeStaged } from './staged-folder';

/** How a LoRA checkpoint is exported; a full fine-tuning checkpoint has one form only. */
export type AdapterExportForm = 'adapter' | 'merged';

/** `<run>-iter-<N>` (`-adapter`, `-merged` for a LoRA checkpoint): which run, which iteration, what it holds. */
export function exportFolderName(runName: string, iteration: number, form?: AdapterExportForm): string {
  return `${runName}-iter-${iteration}${form ? `-${form}` : ''}`;
}

/** The model folder's files in a complete checkpoint: config or adapter config, weights, tokenizer and generation files. */
export async function modelFiles(checkpoint: string): Promise<string[]> {
  // Export is allowed in Restricted Mode and may be called with any argument: what it copies
  // out must be a checkpoint the run wrote, not a link to somewhere else on the disk.
  const problem = checkpointPathProblem(join(dirname(dirname(checkpoint)), 'checkpoints'), checkpoint);
  if (problem) throw new UserError(problem);
  if (!isCompleteCheckpoint(checkpoint)) {
    throw new UserError(`${checkpoint}: not a complete checkpoint (no ${STATE_FILE}); export an earlier checkpoint of the run`);
  }
  const files: string[] = [];
  for (const entry of await readdir(checkpoint, { withFileTypes: true })) {
    if (entry.isFile() && !RESUME_ONLY_FILES.has(entry.name)) files.push(entry.name);
  }
  return files.sort();
}

export interface ExportOptions {
  /** After each file: bytes copied so far, of `totalBytes`. */
  onProgress?(copiedBytes: number, totalBytes: number): void;
  /** Checked between files; an abort removes what was copied and throws an AbortError. */
  signal?: AbortSignal;
}

/**
 * Copies the model folder of `checkpoint` to `<destDir>/<name>` and returns that path. Refuses a
 * target that exists and is not an empty folder.
 */
export async function exportCheckpoint(checkpoint: string, destDir: string, name: string, options: ExportOptions = {}): Promise<string> {
  const files = await modelFiles(checkpoint);
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(checkpoint, f))).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  return writeStaged(
    destDir,
    name,
    async (partial) => {
      let copied = 0;
      for (const [i, f] of files.entries()) {
        options.signal?.throwIfAborted();
        await copyFile(join(checkpoint, f), join(partial, f));
        copied += sizes[i];
        options.onProgress?.(copied, totalBytes);
      }
    },
    options.signal,
  );
}
