import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CausalLM } from './causal-lm';
import { loadModelConfig } from './config';
import { LoraAdapters, type LoraSpec } from './lora';
import { paramsFromTensors } from './params';
import { baseModelFolder, isAdapterFolder, readAdapterConfig, readAdapterValues } from './peft-adapter';
import { readModelWeights } from './weights-files';

/**
 * Loads an HF model folder (config.json + safetensors) onto the current TF.js backend; a
 * PEFT adapter folder loads its base model (base_model_name_or_path) with the adapter on it.
 */
export async function loadCausalLM(modelDir: string): Promise<CausalLM> {
  if (!existsSync(join(modelDir, 'config.json')) && isAdapterFolder(modelDir)) {
    const { spec, baseModel } = await readAdapterConfig(modelDir);
    return loadAdapted(baseModelFolder(modelDir, baseModel), { spec, from: modelDir });
  }
  const config = await loadModelConfig(modelDir);
  const tensors = await readModelWeights(modelDir);
  return new CausalLM(config, paramsFromTensors(config, tensors, modelDir));
}

/**
 * The base model in `baseDir` with LoRA adapters: read from the PEFT folder `from`, or
 * initialised as PEFT initialises them (seeded) when `from` is absent.
 */
export async function loadAdapted(baseDir: string, a: { spec: LoraSpec; from?: string; seed?: number }): Promise<CausalLM> {
  const config = await loadModelConfig(baseDir);
  const params = paramsFromTensors(config, await readModelWeights(baseDir), baseDir);
  const source = a.from ?? baseDir;
  const adapters = a.from
    ? LoraAdapters.fromValues(config, params, a.spec, await readAdapterValues(a.from, a.spec), source)
    : LoraAdapters.init(config, params, a.spec, a.seed ?? 0, source);
  return new CausalLM(config, params, adapters);
}

/** Where a model folder's tokenizer is: the folder itself, or an adapter folder's base. */
export async function tokenizerFolder(modelDir: string): Promise<string> {
  if (existsSync(join(modelDir, 'tokenizer.json')) || !isAdapterFolder(modelDir)) return modelDir;
  return baseModelFolder(modelDir, (await readAdapterConfig(modelDir)).baseModel);
}
