// The policy as a GGUF file llama.cpp loads: our ModelConfig as llama.cpp's metadata keys,
// HF tensor names as llama.cpp's, and the query/key rows reordered where llama.cpp's rotary
// embedding pairs dimensions differently from HF's.
import type { ModelConfig } from '../model/config';
import { writeGguf, type GgufTensor, type GgufTensorType, type GgufValue } from '../model/gguf-write';
import type { TensorData } from '../model/safetensors-read';

export type GgufWeights = 'f32' | 'f16';

/** llama.cpp's architecture for a model type: qwen2 has its own (half-split rotary, q/k/v biases). */
function architecture(c: ModelConfig): 'llama' | 'qwen2' {
  return c.modelType === 'qwen2' ? 'qwen2' : 'llama';
}

/**
 * Why llama.cpp cannot run this model as our engine does, or undefined where it can.
 * These fall back to the tfjs generation (rollout-engine.ts says so once).
 */
export function unsupportedModel(c: ModelConfig, longestSequence: number): string | undefined {
  // llama.cpp's llama3 rope scaling reads a rope_freqs tensor we do not write yet.
  if (c.ropeScaling !== null) return `the model's rope_scaling (${c.ropeScaling.type}) is not written to GGUF yet`;
  // llama.cpp's llama architecture attends over the whole context; a window shorter than a
  // rollout's sequences would change the model.
  if (c.slidingWindow !== null && c.slidingWindow < longestSequence) return `the model's sliding_window (${c.slidingWindow}) is shorter than a rollout sequence (${longestSequence} tokens)`;
  if (c.modelType === 'qwen2' && c.oBias) return 'llama.cpp\'s qwen2 has no output-projection bias';
  return undefined;
}

/**
 * HF's rotate_half pairs dimension i with i + d/2 in each head; llama.cpp's llama
 * architecture ("normal" rope) pairs 2i with 2i + 1. Row h*d + 2i + s of the result is row
 * h*d + s*d/2 + i of the HF weight (as llama.cpp's own converter permutes).
 */
export function interleaveRotaryRows(t: TensorData, heads: number): TensorData {
  const rows = t.shape[0];
  const cols = t.shape.length > 1 ? t.shape[1] : 1;
  const d = rows / heads;
  const half = d / 2;
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let s = 0; s < 2; s++) {
        const to = (h * d + 2 * i + s) * cols;
        const from = (h * d + s * half + i) * cols;
        out.set(t.data.subarray(from, from + cols), to);
      }
    }
  }
  return { shape: t.shape.slice(), data: out };
}

const LAYER_TENSORS: [string, string][] = [
  ['input_layernorm.weight', 'attn_norm.weight'],
  ['self_attn.q_proj.weight', 'attn_q.weight'],
  ['self_attn.q_proj.bias', 'attn_q.bias'],
  ['self_attn.k_proj.weight', 'attn_k.weight'],
  ['self_attn.k_proj.bias', 'attn_k.bias'],
  ['self_attn.v_proj.weight', 'attn_v.weight'],
  ['self_attn.v_proj.bias', 'attn_v.bias'],
  ['self_attn.o_proj.weight', 'attn_output.weight'],
  ['self_attn.o_proj.bias', 'attn_output.bias'],
  ['post_attention_layernorm.weight', 'ffn_norm.weight'],
  ['mlp.gate_proj.weight', 'ffn_gate.weight'],
  ['mlp.up_proj.weight', 'ffn_up.weight'],
  ['mlp.down_proj.weight', 'ffn_down.weight'],
];

/** llama.cpp's tensors from HF-layout ones (mergedTensors). Norms and biases stay F32, as llama.cpp's converter keeps them. */
export function ggufTensors(c: ModelConfig, hf: Map<string, TensorData>, weights: GgufWeights): Map<string, GgufTensor> {
  const out = new Map<string, GgufTensor>();
  const matrixType: GgufTensorType = weights === 'f16' ? 'F16' : 'F32';
  const put = (name: string, t: TensorData | undefined) => {
    if (t) out.set(name, { ...t, type: t.shape.length === 2 ? matrixType : 'F32' });
  };
  const interleave = architecture(c) === 'llama';
  put('token_embd.weight', hf.get('model.embed_tokens.weight'));
  for (let i = 0; i < c.numLayers; i++) {
    for (const [from, to] of LAYER_TENSORS) {
      let t = hf.get(`model.layers.${i}.${from}`);
      if (t && interleave && /^self_attn\.[qk]_proj\./.test(from)) t = interleaveRotaryRows(t, from.startsWith('self_attn.q') ? c.numHeads : c.numKvHeads);
      put(`blk.${i}.${to}`, t);
    }
  }
  put('output_norm.weight', hf.get('model.norm.weight'));
  // Tied embeddings: llama.cpp reuses token_embd when output.weight is absent.
  put('output.weight', hf.get('lm_head.weight'));
  return out;
}

/** The bytes of sentencepiece's space (U+2581), then a-z, then every other byte. */
const BYTE_ORDER = (() => {
  const first = [0xe2, 0x96, 0x81, ...Array.from({ length: 26 }, (_, i) => 0x61 + i)];
  return [...first, ...Array.from({ length: 256 }, (_, b) => b).filter((b) => !first.includes(b))];
})();

/**
 * Metadata llama.cpp needs. We hand llama.cpp token ids, decode with our own tokenizer and
 * decide ourselves where a completion ends, so llama.cpp's vocabulary is only placeholders.
 */
export function ggufMetadata(c: ModelConfig, weights: GgufWeights, name: string): Map<string, GgufValue> {
  const arch = architecture(c);
  const m = new Map<string, GgufValue>();
  const u32 = (key: string, value: number) => m.set(key, { type: 'u32', value });
  m.set('general.architecture', { type: 'string', value: arch });
  m.set('general.name', { type: 'string', value: name });
  u32('general.file_type', weights === 'f16' ? 1 : 0);
  u32(`${arch}.vocab_size`, c.vocabSize);
  u32(`${arch}.context_length`, c.maxPositionEmbeddings);
  u32(`${arch}.embedding_length`, c.hiddenSize);
  u32(`${arch}.block_count`, c.numLayers);
  u32(`${arch}.feed_forward_length`, c.intermediateSize);
  u32(`${arch}.attention.head_count`, c.numHeads);
  u32(`${arch}.attention.head_count_kv`, c.numKvHeads);
  u32(`${arch}.attention.key_length`, c.headDim);
  u32(`${arch}.attention.value_length`, c.headDim);
  u32(`${arch}.rope.dimension_count`, c.headDim);
  m.set(`${arch}.rope.freq_base`, { type: 'f32', value: c.ropeTheta });
  m.set(`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: c.rmsNormEps });
  // A sentencepiece-style vocabulary of placeholders. node-llama-cpp tokenizes a test
  // sentence on load, and llama.cpp aborts the process where a byte has no token, so ids
  // take byte tokens ("<0xXX>", type 6) first, in an order that covers that sentence
  // even in tiny test vocabularies; the rest are named by their id.
  const tokens = Array.from({ length: c.vocabSize }, (_, i) => `<${i}>`);
  const types = new Int32Array(c.vocabSize).fill(1); // normal
  BYTE_ORDER.slice(0, c.vocabSize).forEach((byte, i) => {
    tokens[i] = `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
    types[i] = 6;
  });
  for (const id of c.eosTokenIds) if (id < c.vocabSize) types[id] = 3; // control
  m.set('tokenizer.ggml.model', { type: 'string', value: 'llama' });
  m.set('tokenizer.ggml.tokens', { type: 'string[]', value: tokens });
  m.set('tokenizer.ggml.scores', { type: 'f32[]', value: new Float32Array(c.vocabSize) });
  m.set('tokenizer.ggml.token_type', { type: 'i32[]', value: types });
  if (c.bosTokenId !== undefined && c.bosTokenId < c.vocabSize) u32('tokenizer.ggml.bos_token_id', c.bosTokenId);
  if (c.eosTokenIds.length > 0 && c.eosTokenIds[0] < c.vocabSize) u32('tokenizer.ggml.eos_token_id', c.eosTokenIds[0]);
  m.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: false });
  m.set('tokenizer.ggml.add_eos_token', { type: 'bool', value: false });
  return m;
}

/** Writes the policy's weights (HF layout, adapters merged) as a GGUF file at `file`. */
export async function writePolicyGguf(file: string, c: ModelConfig, hf: Map<string, TensorData>, weights: GgufWeights): Promise<void> {
  await writeGguf(file, ggufMetadata(c, weights, 'grpo-studio policy'), ggufTensors(c, hf, weights));
}
