import { UserError } from '../../errors';
import { tokenizerFolder } from '../../model/load';
import { isAdapterFolder } from '../../model/peft-adapter';
import { saveModel } from '../../model/save';
import { requireString } from '../args';
import { parseFlags } from '../flags';
import { checkOutputFolder } from '../output-folder';
import { BACKEND_FLAG, loadModelFolder, startBackend } from '../session';

export const MERGE_HELP = `grpo merge --adapter DIR --out DIR [--dtype f32|bf16] [--force]

Folds a LoRA adapter into its base model and writes a plain Hugging Face model folder
(W + scale * B A for each adapted layer, the trained copy of each module to save), as PEFT's
merge_and_unload does: transformers, llama.cpp's converters and every grpo command load it
without PEFT. --adapter is a PEFT adapter folder (a LoRA run's checkpoint is one); its base
is the folder adapter_config.json names in base_model_name_or_path.
  --dtype f32|bf16         weights written (default f32)
  --force                  write into an --out folder that is not empty
  --backend auto|tensorflow|wasm|cpu|webgpu`;

export async function mergeCommand(argv: string[]): Promise<void> {
  const v = parseFlags('merge', argv, { adapter: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, force: { type: 'boolean' }, ...BACKEND_FLAG });
  const adapterDir = requireString(v, 'adapter');
  const outDir = requireString(v, 'out');
  if (!isAdapterFolder(adapterDir)) throw new UserError(`--adapter ${adapterDir}: no adapter_config.json there; give a PEFT adapter folder, such as a LoRA run's checkpoint`);
  checkOutputFolder('out', outDir, v.force === true);
  const dtype = ((v.dtype as string | undefined) ?? 'f32').toLowerCase();
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UserError(`--dtype must be f32 or bf16, got "${dtype}"`);
  await startBackend(v);
  const { model } = await loadModelFolder(adapterDir, false);
  try {
    await saveModel(model, outDir, { dtype: dtype === 'bf16' ? 'BF16' : 'F32', tokenizerDir: await tokenizerFolder(adapterDir) });
  } finally {
    model.dispose();
  }
  process.stdout.write(`wrote ${outDir}: the base model with the adapter merged in\n`);
}
