import { CausalLM } from './causal-lm';
import { loadModelConfig } from './config';
import { paramsFromTensors } from './params';
import { readModelWeights } from './weights-files';

/** Loads an HF model folder (config.json + safetensors) onto the current TF.js backend. */
export async function loadCausalLM(modelDir: string): Promise<CausalLM> {
  const config = await loadModelConfig(modelDir);
  const tensors = await readModelWeights(modelDir);
  return new CausalLM(config, paramsFromTensors(config, tensors, modelDir));
}
