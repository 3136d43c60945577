import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CausalLM } from './causal-lm';
import { toHfConfig } from './config';
import { mergedTensors } from './merge';
import { writeModelWeights } from './weights-files';

/** Tokenizer and generation files that travel with a model folder. */
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'generation_config.json',
];

/**
 * Saves the model as a Hugging Face folder transformers can load: config.json,
 * safetensors weights (with any LoRA adapters merged in), and the tokenizer files copied
 * from `tokenizerDir`.
 */
export async function saveModel(
  model: CausalLM,
  outDir: string,
  opts: { dtype: 'F32' | 'BF16'; tokenizerDir?: string },
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeModelWeights(outDir, await mergedTensors(model), { dtype: opts.dtype });
  const config = toHfConfig(model.config, opts.dtype === 'BF16' ? 'bfloat16' : 'float32');
  await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (opts.tokenizerDir) await copyTokenizerFiles(opts.tokenizerDir, outDir);
}

/** Copies the tokenizer and generation files of `fromDir` that exist into `outDir`. */
export async function copyTokenizerFiles(fromDir: string, outDir: string): Promise<void> {
  if (resolve(fromDir) === resolve(outDir)) return;
  for (const f of TOKENIZER_FILES) {
    const from = join(fromDir, f);
    if (existsSync(from)) await copyFile(from, join(outDir, f));
  }
}
