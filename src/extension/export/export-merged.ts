// Export Model, merged form: a LoRA checkpoint's adapter folded into its base model by
// `grpo merge`, written as a plain Hugging Face model folder (config.json, model.safetensors,
// tokenizer files) that loads without PEFT. The CLI writes into the staged temporary folder,
// so a failed or cancelled merge leaves nothing where the user asked for the model.
import { UserError } from '../../errors';
import { isAdapterCheckpoint } from '../runs-view/run-list';
import { modelFiles } from './export-checkpoint';
import { runMerge, type MergeProcessOptions } from './merge-process';
import { writeStaged } from './staged-folder';

export type MergedExportOptions = Pick<MergeProcessOptions, 'cliScript' | 'nodePath' | 'backend' | 'signal'>;

/**
 * Merges the adapter of `checkpoint` into `<destDir>/<name>` and returns that path. Throws a
 * UserError with the CLI's reason when the merge fails, an AbortError when `signal` aborts it.
 */
export async function exportMerged(checkpoint: string, destDir: string, name: string, options: MergedExportOptions): Promise<string> {
  await modelFiles(checkpoint); // refuses a checkpoint whose save was cut off
  if (!isAdapterCheckpoint(checkpoint)) throw new UserError(`${checkpoint}: not a LoRA adapter checkpoint (no adapter_config.json); export it as it is, there is nothing to merge`);
  return writeStaged(
    destDir,
    name,
    async (partial) => {
      const outcome = await runMerge({ ...options, adapterDir: checkpoint, outDir: partial });
      if (outcome.type === 'cancelled') throw new DOMException('the merge was cancelled', 'AbortError');
      if (outcome.type === 'failed') throw new UserError(`merge failed, nothing was written: ${outcome.message}`);
    },
    options.signal,
  );
}
