import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendChoice, type BackendName } from '../engine/backend';
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { loadCausalLM } from '../model/load';
import { Tokenizer } from '../tokenizer/tokenizer';
import type { Options, Values } from './args';

/** Flags every model-using command takes. */
export const BACKEND_FLAG: Options = { backend: { type: 'string' } };

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'];

export async function startBackend(command: string, values: Values): Promise<BackendChoice> {
  const b = values.backend;
  if (b !== undefined && (typeof b !== 'string' || !BACKENDS.includes(b))) {
    throw new UserError(`grpo ${command}: --backend must be one of ${BACKENDS.join(', ')}, got "${String(b)}"`);
  }
  return initBackend(b as BackendName | 'auto' | undefined);
}

export interface LoadedModel {
  model: CausalLM;
  tokenizer: Tokenizer | undefined; // absent when the folder has no tokenizer.json
}

export async function loadModelFolder(dir: string, needTokenizer: boolean): Promise<LoadedModel> {
  if (!existsSync(dir)) throw new UserError(`--model ${dir}: folder not found`);
  const hasTokenizer = existsSync(join(dir, 'tokenizer.json'));
  if (needTokenizer && !hasTokenizer) {
    throw new UserError(`${join(dir, 'tokenizer.json')}: not found; text needs a tokenizer (or pass token ids)`);
  }
  const model = await loadCausalLM(dir);
  return { model, tokenizer: hasTokenizer ? await Tokenizer.load(dir) : undefined };
}
