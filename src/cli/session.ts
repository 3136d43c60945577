import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendChoice, type BackendName } from '../engine/backend';
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { loadCausalLM, tokenizerFolder } from '../model/load';
import { Tokenizer } from '../tokenizer/tokenizer';
import type { FlagSpecs, Values } from './flags';

/** Flags every model-using command takes. */
export const BACKEND_FLAG: FlagSpecs = { backend: { type: 'string' } };

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'];

/**
 * Starts --backend (else GRPO_BACKEND, else auto) and says on stderr which backend runs and
 * why, so that --json output stays one object on stdout.
 */
export async function startBackend(values: Values): Promise<BackendChoice> {
  const b = values.backend;
  if (b !== undefined && (typeof b !== 'string' || !BACKENDS.includes(b))) {
    throw new UserError(`--backend must be one of ${BACKENDS.join(', ')}, got "${String(b)}"`);
  }
  const choice = await initBackend(b as BackendName | 'auto' | undefined);
  process.stderr.write(`backend ${choice.reason}\n`);
  return choice;
}

export interface LoadedModel {
  model: CausalLM;
  tokenizer: Tokenizer | undefined; // absent when the folder has no tokenizer.json
}

export async function loadModelFolder(dir: string, needTokenizer: boolean): Promise<LoadedModel> {
  if (!existsSync(dir)) throw new UserError(`--model ${dir}: folder not found`);
  const tokenizerDir = await tokenizerFolder(dir); // an adapter folder's base has it
  const hasTokenizer = existsSync(join(tokenizerDir, 'tokenizer.json'));
  if (needTokenizer && !hasTokenizer) {
    throw new UserError(`${join(dir, 'tokenizer.json')}: not found; text needs a tokenizer (or pass token ids)`);
  }
  const model = await loadCausalLM(dir);
  return { model, tokenizer: hasTokenizer ? await Tokenizer.load(tokenizerDir) : undefined };
}
