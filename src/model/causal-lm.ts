import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';
import type { LoraAdapters } from './lora';
import type { Params } from './params';
import { recomputedInBackward } from './layer-recompute';
import { applyRope, inverseFrequencies, ropeTables, type RopeTables } from './rope';

/**
 * Keys and values of the positions seen so far, one entry per layer.
 * Keys are stored transposed so that scores = q @ kT is a plain matmul.
 */
export type KVCache = {
  keysT: tf.Tensor4D[]; // [B, kvHeads, headDim, S]
  values: tf.Tensor4D[]; // [B, kvHeads, S, headDim]
};

export interface ForwardInput {
  ids: tf.Tensor2D; // [B, T] int32
  positions: tf.Tensor2D; // [B, T] int32
  mask: tf.Tensor4D; // [B, 1, T, S] additive; S = cached length + T
  cache?: KVCache;
}

export interface ForwardOutput {
  hidden: tf.Tensor3D; // [B, T, hidden], after the final norm
  cache?: KVCache; // present when asked for: the input cache extended by this call's T positions
}

/** A LLaMA-family decoder (llama, qwen2, mistral) over TF.js. Stateless apart from its params. */
export class CausalLM {
  readonly invFreq: tf.Tensor1D;

  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
    /** With adapters, training updates them alone and `params` stay the frozen base. */
    readonly lora?: LoraAdapters,
  ) {
    this.invFreq = tf.tensor1d(inverseFrequencies(config));
  }

  /** What an optimizer updates: the adapters' tensors with LoRA, else every parameter. */
  get trainable(): Params {
    return this.lora ? this.lora.trainable() : this.params;
  }

  private p(name: string): tf.Tensor {
    const v = this.lora?.override(name) ?? this.params.get(name);
    if (!v) throw new Error(`internal error: parameter ${name} missing`);
    return v;
  }

  /**
   * Runs the decoder. Call inside tf.tidy; returned tensors belong to the caller. With
   * `recompute` (a training step without a cache), each layer keeps only its input for the
   * backward pass and runs again there (layer-recompute.ts): gradient checkpointing.
   */
  forward(input: ForwardInput, wantCache: boolean, opts: { recompute?: boolean } = {}): ForwardOutput {
    const c = this.config;
    const [b, t] = input.ids.shape;
    const rope = ropeTables(input.positions, this.invFreq);
    let x = tf.gather(this.p('model.embed_tokens.weight'), input.ids) as tf.Tensor3D; // [B, T, hidden]
    // Broadcast over the query-head groups: scores are [B, kvHeads, rep, T, S].
    const mask = tf.reshape(input.mask, [b, 1, 1, t, -1]);
    const cache: KVCache | undefined = wantCache ? { keysT: [], values: [] } : undefined;
    const recompute = opts.recompute === true && !wantCache && !input.cache;
    const trained = recompute ? [...this.trainable] : [];
    for (let i = 0; i < c.numLayers; i++) {
      const past = input.cache ? { kT: input.cache.keysT[i], v: input.cache.values[i] } : undefined;
      if (recompute) {
        const next = recomputedInBackward(
          (xIn, [cos, sin, m]) => {
            const out = this.layer(i, xIn, { cos: cos as tf.Tensor4D, sin: sin as tf.Tensor4D }, m, undefined);
            tf.dispose([out.kT, out.v]);
            return out.x;
          },
          x,
          trainedInLayer(trained, i),
          [rope.cos, rope.sin, mask],
        );
        x.dispose(); // the recomputation saved its own copy
        x = next;
        continue;
      }
      // One tidy per layer frees the layer's intermediates as soon as it is done, rather than
      // at the end of the caller's scope; what a gradient needs, the tape keeps (as clones).
      const layer = tf.tidy(() => this.layer(i, x, rope, mask, past));
      x.dispose(); // the layer's input; a gradient's copy, if any, is on the tape
      x = layer.x;
      if (cache) {
        cache.keysT.push(layer.kT);
        cache.values.push(layer.v);
      } else {
        tf.dispose([layer.kT, layer.v]);
      }
    }
    const hidden = this.rmsNorm(x, 'model.norm.weight');
    x.dispose();
    return { hidden, cache };
  }

  /** Decoder layer i: its output and this call's keys (transposed) and values. */
  private layer(i: number, x: tf.Tensor3D, rope: RopeTables, mask: tf.Tensor, past: { kT: tf.Tensor4D; v: tf.Tensor4D } | undefined) {
    const prefix = `model.layers.${i}.`;
    const h = this.rmsNorm(x, `${prefix}input_layernorm.weight`);
    const attn = this.attention(h, prefix, rope, mask, past);
    const mid = tf.add(x, attn.out) as tf.Tensor3D;
    const h2 = this.rmsNorm(mid, `${prefix}post_attention_layernorm.weight`);
    return { x: tf.add(mid, this.mlp(h2, prefix)) as tf.Tensor3D, kT: attn.kT, v: attn.v };
  }

  /** Logits over the vocabulary: hidden [B, T, hidden] -> [B, T, vocab]. */
  logits(hidden: tf.Tensor3D, lmHead?: tf.Tensor2D): tf.Tensor3D {
    const [b, t, d] = hidden.shape;
    const w = lmHead ?? this.lmHead();
    return tf.reshape(tf.matMul(tf.reshape(hidden, [b * t, d]), w), [b, t, -1]);
  }

  /**
   * The output projection as [hidden, vocab]. With tied embeddings this transposes the
   * embedding matrix, so generation computes it once per call rather than once per token;
   * the caller disposes it then. Untied, it is the parameter itself: never dispose that.
   */
  lmHead(): tf.Tensor2D {
    if (this.config.tieWordEmbeddings) return tf.transpose(this.p('model.embed_tokens.weight') as tf.Tensor2D);
    return this.p('lm_head.weight') as tf.Tensor2D;
  }

  private rmsNorm(x: tf.Tensor3D, weight: string): tf.Tensor3D {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, this.config.rmsNormEps))), this.p(weight));
  }

  private linear(x: tf.Tensor3D, name: string, bias: boolean): tf.Tensor3D {
    const [b, t, d] = x.shape;
    const flat = tf.reshape(x, [b * t, d]) as tf.Tensor2D;
    let y: tf.Tensor2D = tf.matMul(flat, this.p(`${name}.weight`) as tf.Tensor2D);
    if (bias) y = tf.add(y, this.p(`${name}.bias`));
    const low = this.lora?.delta(name, flat);
    if (low) y = tf.add(y, low);
    return tf.reshape(y, [b, t, -1]);
  }

  private attention(
    h: tf.Tensor3D,
    prefix: string,
    rope: RopeTables,
    mask: tf.Tensor,
    past: { kT: tf.Tensor4D; v: tf.Tensor4D } | undefined,
  ): { out: tf.Tensor3D; kT: tf.Tensor4D; v: tf.Tensor4D } {
    const c = this.config;
    const [b, t] = h.shape;
    const hd = c.headDim;
    const kvh = c.numKvHeads;
    const rep = c.numHeads / kvh;
    const bias = c.qkvBias;
    let q = tf.reshape(this.linear(h, `${prefix}self_attn.q_proj`, bias), [b, t, c.numHeads, hd]) as tf.Tensor4D;
    let k = tf.reshape(this.linear(h, `${prefix}self_attn.k_proj`, bias), [b, t, kvh, hd]) as tf.Tensor4D;
    const vNew = tf.reshape(this.linear(h, `${prefix}self_attn.v_proj`, bias), [b, t, kvh, hd]);
    // Scaling q before the product is the same maths as scaling the scores, on fewer numbers.
    q = tf.mul(applyRope(q, rope), 1 / Math.sqrt(hd));
    k = applyRope(k, rope);
    // Query heads j*rep .. j*rep+rep-1 share kv head j, so grouping them is a reshape.
    const qGrouped = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [b, kvh, rep * t, hd]); // [B, kvh, rep*T, hd]
    let kT = tf.transpose(k, [0, 2, 3, 1]) as tf.Tensor4D; // [B, kvh, hd, T]
    let v = tf.transpose(vNew, [0, 2, 1, 3]) as tf.Tensor4D; // [B, kvh, T, hd]
    if (past) {
      kT = tf.concat([past.kT, kT], 3);
      v = tf.concat([past.v, v], 2);
    }
    const s = kT.shape[3];
    const scores = tf.reshape(tf.matMul(qGrouped, kT), [b, kvh, rep, t, s]); // [B, kvh, rep, T, S]
    const probs = tf.reshape(tf.softmax(tf.add(scores, mask)), [b, kvh, rep * t, s]);
    const ctx = tf.reshape(tf.matMul(probs, v), [b, c.numHeads, t, hd]); // [B, heads, T, hd]
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, t, c.numHeads * hd]) as tf.Tensor3D;
    return { out: this.linear(merged, `${prefix}self_attn.o_proj`, c.oBias), kT, v };
  }

  private mlp(h: tf.Tensor3D, prefix: string): tf.Tensor3D {
    const gate = this.linear(h, `${prefix}mlp.gate_proj`, false);
    const up = this.linear(h, `${prefix}mlp.up_proj`, false);
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor3D; // silu(gate) * up
    return this.linear(act, `${prefix}mlp.down_proj`, false);
  }

  dispose(): void {
    this.invFreq.dispose();
    this.lora?.dispose();
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Of `trained` (name, tensor), what layer i reads: its weights, or with LoRA its adapters and saved modules. */
function trainedInLayer(trained: [string, tf.Tensor][], i: number): tf.Tensor[] {
  const prefix = `model.layers.${i}.`;
  return trained.filter(([name]) => name.startsWith(prefix)).map(([, v]) => v);
}
