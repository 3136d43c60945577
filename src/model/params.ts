import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import type { ModelConfig } from './config';
import type { TensorData } from './safetensors';

/**
 * The model's parameters, keyed by their Hugging Face names.
 *
 * Linear weights are kept transposed, as [in, out], so that `x @ W` needs no transpose
 * flag: the wasm backend's transposed matmul is far slower than a plain one. They are
 * transposed back to HF's [out, in] when exported.
 */
export type Params = Map<string, tf.Variable>;

export function isLinearWeight(name: string): boolean {
  return name.endsWith('_proj.weight') || name === 'lm_head.weight';
}

/** Every tensor the config implies, with its shape in the HF layout. */
export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  m.set('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}input_layernorm.weight`, [c.hiddenSize]);
    m.set(`${p}self_attn.q_proj.weight`, [q, c.hiddenSize]);
    m.set(`${p}self_attn.k_proj.weight`, [kv, c.hiddenSize]);
    m.set(`${p}self_attn.v_proj.weight`, [kv, c.hiddenSize]);
    if (c.qkvBias) {
      m.set(`${p}self_attn.q_proj.bias`, [q]);
      m.set(`${p}self_attn.k_proj.bias`, [kv]);
      m.set(`${p}self_attn.v_proj.bias`, [kv]);
    }
    m.set(`${p}self_attn.o_proj.weight`, [c.hiddenSize, q]);
    if (c.oBias) m.set(`${p}self_attn.o_proj.bias`, [c.hiddenSize]);
    m.set(`${p}post_attention_layernorm.weight`, [c.hiddenSize]);
    m.set(`${p}mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    m.set(`${p}mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    m.set(`${p}mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]);
  }
  m.set('model.norm.weight', [c.hiddenSize]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  return m;
}

/** Tensors some checkpoints carry that the model recomputes, so they are skipped. */
const DERIVED = /\.rotary_emb\.inv_freq$/;

/**
 * Turns loaded tensors into trainable variables, checking that every expected tensor is
 * present with the right shape. `source` names the model folder in error messages.
 */
export function paramsFromTensors(c: ModelConfig, tensors: Map<string, TensorData>, source: string): Params {
  const expected = expectedShapes(c);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      throw new UserError(
        `${source}: weights have no tensor "${name}" (shape [${shape}]) that config.json implies; ` +
          'check that the weights and config.json belong to the same model',
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(
        `${source}: tensor "${name}" has shape [${t.shape}] but config.json implies [${shape}]; ` +
          'check hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, head_dim and vocab_size',
      );
    }
  }
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n) && !DERIVED.test(n));
  if (unexpected.length > 0) {
    throw new UserError(
      `${source}: weights hold tensors this ${c.modelType} config does not use: ${unexpected.slice(0, 5).join(', ')}` +
        (unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : '') +
        (unexpected.includes('lm_head.weight') ? '; is tie_word_embeddings wrong in config.json?' : ''),
    );
  }
  const params: Params = new Map();
  for (const [name, shape] of expected) {
    const t = tensors.get(name)!;
    const value = tf.tidy(() => {
      const x = tf.tensor(t.data, shape, 'float32');
      return isLinearWeight(name) ? tf.transpose(x) : x;
    });
    // Unnamed: tf.js variable names are global, and a policy and its reference share HF names.
    params.set(name, tf.variable(value, true));
    value.dispose();
  }
  return params;
}

/** The parameters back in HF layout, as plain arrays for writing. */
export async function tensorsFromParams(params: Params): Promise<Map<string, TensorData>> {
  const out = new Map<string, TensorData>();
  for (const [name, v] of params) {
    const hf = isLinearWeight(name) ? tf.transpose(v) : v;
    out.set(name, { shape: hf.shape.slice(), data: (await hf.data()) as Float32Array });
    if (hf !== v) hf.dispose();
  }
  return out;
}

export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose();
  params.clear();
}

/** Parameters a config implies, before any weights load. */
export function configParameters(c: ModelConfig): number {
  let n = 0;
  for (const shape of expectedShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

export function countParameters(params: Params): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}
