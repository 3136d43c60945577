import type { ModelConfig, ModelType } from './config';
import { expectedShapes } from './params';
import { Rng } from './rng';
import type { TensorData } from './safetensors';

/** Named sizes for `grpo init-model --size` and the benchmark. */
export interface ModelSize {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  vocabSize: number; // at least the tokenizer's; larger sizes mimic real vocabularies
  tieWordEmbeddings: boolean;
}

export const MODEL_SIZES: Record<string, ModelSize> = {
  // Small enough to train in seconds on two cores; vocab is the generated tokenizer's.
  tiny: { hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, vocabSize: 0, tieWordEmbeddings: true },
  // About 25M parameters, SmolLM2's proportions scaled down.
  '25m': { hiddenSize: 384, intermediateSize: 1024, numLayers: 12, numHeads: 6, numKvHeads: 2, vocabSize: 16384, tieWordEmbeddings: true },
  // SmolLM2-135M's shape: 30 layers, d=576, 9 heads over 3 kv heads, 49152-token vocabulary.
  '135m': { hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, vocabSize: 49152, tieWordEmbeddings: true },
};

/** The raw HF config for a fresh model of `arch` and `size`. */
export function freshConfigJson(
  arch: ModelType,
  size: ModelSize,
  tokens: { vocabSize: number; bosTokenId: number; eosTokenId: number },
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    architectures: [{ llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[arch]],
    model_type: arch,
    vocab_size: Math.max(size.vocabSize, tokens.vocabSize),
    hidden_size: size.hiddenSize,
    intermediate_size: size.intermediateSize,
    num_hidden_layers: size.numLayers,
    num_attention_heads: size.numHeads,
    num_key_value_heads: size.numKvHeads,
    head_dim: size.hiddenSize / size.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: arch === 'qwen2' ? 1000000 : 10000,
    rope_scaling: null,
    tie_word_embeddings: size.tieWordEmbeddings,
    initializer_range: 0.02,
    bos_token_id: tokens.bosTokenId,
    eos_token_id: tokens.eosTokenId,
    torch_dtype: 'float32',
  };
  if (arch === 'mistral') json.sliding_window = null;
  if (arch === 'qwen2') json.use_sliding_window = false;
  if (arch === 'llama') json.attention_bias = false;
  return json;
}

/**
 * Random weights as transformers initialises them: normal(0, initializer_range) for
 * matrices and embeddings, ones for norms, zeros for biases. Seeded, so the same command
 * makes the same model on any machine.
 */
export function randomWeights(c: ModelConfig, seed: number, std = 0.02): Map<string, TensorData> {
  const rng = new Rng(seed);
  const out = new Map<string, TensorData>();
  for (const [name, shape] of expectedShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) fillNormal(data, rng, std);
    out.set(name, { shape, data });
  }
  return out;
}

function fillNormal(data: Float32Array, rng: Rng, std: number): void {
  for (let i = 0; i < data.length; i += 2) {
    // Box-Muller: two independent normals from two uniforms; 1 - u keeps log away from 0.
    const r = Math.sqrt(-2 * Math.log(1 - rng.next())) * std;
    const theta = 2 * Math.PI * rng.next();
    data[i] = r * Math.cos(theta);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(theta);
  }
}
