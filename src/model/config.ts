import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors';
import { quoteValue } from '../error-text';

export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'mistral'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Llama 3's frequency-dependent RoPE rescaling (transformers' `rope_type: "llama3"`). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** The architecture of a LLaMA-family model, normalised from an HF `config.json`. */
export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number; // < numHeads means grouped-query attention
  headDim: number; // usually hiddenSize / numHeads, but configs may set it explicitly
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  qkvBias: boolean; // qwen2 always; llama with attention_bias
  oBias: boolean; // llama with attention_bias
  slidingWindow: number | null; // mistral; null means full causal attention
  bosTokenId: number | undefined;
  eosTokenIds: number[];
  /** The file as read, so a saved model keeps the keys we do not interpret. */
  raw: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Reads and validates `<dir>/config.json`. */
export async function loadModelConfig(modelDir: string): Promise<ModelConfig> {
  const file = join(modelDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`${file}: cannot be read (${(e as Error).message})`);
    throw new UserError(`${file}: not found; a model folder needs config.json (is ${modelDir} a Hugging Face model folder?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`${file}: expected a JSON object`);
  }
  return parseModelConfig(json as Json, file);
}

export function parseModelConfig(raw: Json, file: string): ModelConfig {
  const modelType = raw.model_type;
  if (!SUPPORTED_MODEL_TYPES.includes(modelType as ModelType)) {
    throw new UserError(
      `${file}: model_type ${quoteValue(modelType)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  }
  const int = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    // Safe integers only: 1e300 is an integer too, and no tensor can have that many rows.
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new UserError(`${file}: field "${key}" must be a positive integer, got ${quoteValue(raw[key])}`);
    }
    return v;
  };
  const num = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new UserError(`${file}: field "${key}" must be a positive number, got ${quoteValue(raw[key])}`);
    }
    return v;
  };
  const type = modelType as ModelType;
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new UserError(
      `${file}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  if (raw.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new UserError(`${file}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}); set head_dim`);
  }
  const headDim = int('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) throw new UserError(`${file}: head_dim (${headDim}) must be even for rotary embeddings`);

  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') {
    throw new UserError(`${file}: hidden_act ${quoteValue(act)} is not supported; supported: silu`);
  }
  if (raw.mlp_bias === true) throw new UserError(`${file}: mlp_bias true is not supported; supported: false`);
  if (raw.pretraining_tp !== undefined && raw.pretraining_tp !== 1) {
    throw new UserError(`${file}: pretraining_tp ${quoteValue(raw.pretraining_tp)} is not supported; supported: 1`);
  }
  const attentionBias = raw.attention_bias === true;

  return {
    modelType: type,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ...rope(raw, file, num('rope_theta', 10000)),
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    // transformers' PretrainedConfig defaults tie_word_embeddings to true, but LLaMA, Qwen2
    // and Mistral configs default it to false; files normally state it.
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    qkvBias: type === 'qwen2' || attentionBias,
    oBias: type !== 'qwen2' && attentionBias,
    slidingWindow: parseSlidingWindow(raw, type, file),
    bosTokenId: tokenIdList(raw.bos_token_id, file, 'bos_token_id', false)[0],
    eosTokenIds: tokenIdList(raw.eos_token_id, file, 'eos_token_id', true),
    raw,
  };
}

/**
 * RoPE settings. transformers 5 writes them as `rope_parameters` (`rope_theta`, `rope_type`
 * and the scaling fields together); earlier versions as `rope_theta` and `rope_scaling`.
 * Where `rope_parameters` is present it wins, as in transformers.
 */
function rope(raw: Json, file: string, legacyTheta: number): { ropeTheta: number; ropeScaling: Llama3RopeScaling | null } {
  const p = raw.rope_parameters;
  if (p === undefined || p === null) return { ropeTheta: legacyTheta, ropeScaling: parseRopeScaling(raw.rope_scaling, file, 'rope_scaling') };
  if (typeof p !== 'object' || Array.isArray(p)) throw new UserError(`${file}: field "rope_parameters" must be an object`);
  const theta = (p as Json).rope_theta ?? legacyTheta;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || theta <= 0) {
    throw new UserError(`${file}: field "rope_parameters.rope_theta" must be a positive number, got ${quoteValue(theta)}`);
  }
  return { ropeTheta: theta, ropeScaling: parseRopeScaling(p, file, 'rope_parameters') };
}

function parseRopeScaling(v: unknown, file: string, fieldName: string): Llama3RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') throw new UserError(`${file}: field "${fieldName}" must be an object or null`);
  const s = v as Json;
  const kind = s.rope_type ?? s.type;
  if (kind === 'default' || (kind === undefined && fieldName === 'rope_parameters')) return null;
  if (kind !== 'llama3') {
    throw new UserError(
      `${file}: ${fieldName} rope_type ${quoteValue(kind)} is not supported; supported: default, llama3`,
    );
  }
  const field = (key: string): number => {
    const x = s[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || !(x > 0)) {
      throw new UserError(`${file}: ${fieldName}.${key} must be a positive number for rope_type llama3`);
    }
    return x;
  };
  return {
    type: 'llama3',
    factor: field('factor'),
    lowFreqFactor: field('low_freq_factor'),
    highFreqFactor: field('high_freq_factor'),
    originalMaxPositionEmbeddings: field('original_max_position_embeddings'),
  };
}

function parseSlidingWindow(raw: Json, type: ModelType, file: string): number | null {
  // Qwen2 ships sliding_window values that only apply when use_sliding_window is true.
  if (type === 'qwen2' && raw.use_sliding_window !== true) return null;
  if (type === 'llama') return null;
  const w = raw.sliding_window;
  if (w === undefined || w === null) return null;
  if (typeof w !== 'number' || !Number.isSafeInteger(w) || w <= 0) {
    throw new UserError(`${file}: field "sliding_window" must be a positive integer or null`);
  }
  return w;
}

/** A token id field: absent or null, one id, or (where `list`) a list of ids. */
function tokenIdList(v: unknown, file: string, key: string, list: boolean): number[] {
  if (v === undefined || v === null) return [];
  const ids = list && Array.isArray(v) ? v : [v];
  if (!ids.every((id) => typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) {
    throw new UserError(`${file}: field "${key}" must be a token id (an integer >= 0)${list ? ' or a list of them' : ''}, got ${quoteValue(v)}`);
  }
  return ids as number[];
}

/** The config.json to write next to saved weights: the original keys, with ours on top. */
export function toHfConfig(c: ModelConfig, torchDtype: 'float32' | 'bfloat16'): Json {
  const architectures: Record<ModelType, string> = {
    llama: 'LlamaForCausalLM',
    qwen2: 'Qwen2ForCausalLM',
    mistral: 'MistralForCausalLM',
  };
  const out: Json = {
    ...c.raw,
    architectures: [architectures[c.modelType]],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: torchDtype,
  };
  if (c.ropeScaling) {
    out.rope_scaling = {
      rope_type: 'llama3',
      factor: c.ropeScaling.factor,
      low_freq_factor: c.ropeScaling.lowFreqFactor,
      high_freq_factor: c.ropeScaling.highFreqFactor,
      original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings,
    };
  }
  if (c.modelType === 'llama') out.attention_bias = c.oBias;
  if (c.bosTokenId !== undefined) out.bos_token_id = c.bosTokenId;
  if (c.eosTokenIds.length > 0) out.eos_token_id = c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds;
  return out;
}
