// LoRA (Hu et al. 2021) as PEFT defines it: a frozen linear layer W gains a low-rank update,
// y = x W + scale * dropout(x) A B, with A [in, r] and B [r, out] in our [in, out] layout
// (PEFT stores lora_A as [r, in] and lora_B as [out, r]) and scale = alpha / r, or
// alpha / sqrt(r) with rsLoRA. Only A, B and the modules_to_save copies are trained; the
// base weights stay as loaded, so "adapters disabled" is the base model itself.
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import type { ModelConfig } from './config';
import { linearModules, loraScale, savedModuleParams, targetedModules, type LoraSpec } from './lora-targets';
import type { Params } from './params';
import { Rng } from './rng';

export type { LoraSpec } from './lora-targets';

/** Adapter values on the host, in our [in, out] layout, keyed as `adapterKey` names them. */
export type AdapterValues = Map<string, { shape: number[]; data: Float32Array }>;

export const adapterKey = (module: string, part: 'A' | 'B'): string => `${module}.lora_${part}`;

/**
 * The adapters of one model: A and B per targeted linear layer and trainable copies of the
 * modules to save. `enabled` false computes the base model (the reference, as TRL's).
 */
export class LoraAdapters {
  readonly scale: number;
  enabled = true;
  /** Set while computing a loss with dropout > 0; each linear layer derives its own mask seed. */
  dropoutSeed: number | undefined;
  private readonly pairs = new Map<string, { a: tf.Variable; b: tf.Variable; index: number }>();
  /** By the base parameter's name: the trained copy used instead of it while enabled. */
  readonly saved = new Map<string, tf.Variable>();

  private constructor(
    readonly spec: LoraSpec,
    readonly modules: string[],
  ) {
    this.scale = loraScale(spec);
  }

  /**
   * Fresh adapters as PEFT initialises them: A uniform in +-1/sqrt(in) (kaiming-uniform with
   * a = sqrt(5)), B zero, so the adapted model starts equal to the base. Seeded.
   */
  static init(c: ModelConfig, base: Params, spec: LoraSpec, seed: number, source: string): LoraAdapters {
    const modules = targetedModules(c, spec.targetModules, source);
    const dims = linearModules(c);
    const rng = new Rng(seed);
    const values: AdapterValues = new Map();
    for (const m of modules) {
      const [inDim, outDim] = dims.get(m)!;
      const bound = 1 / Math.sqrt(inDim);
      const a = new Float32Array(inDim * spec.r);
      for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
      values.set(adapterKey(m, 'A'), { shape: [inDim, spec.r], data: a });
      values.set(adapterKey(m, 'B'), { shape: [spec.r, outDim], data: new Float32Array(spec.r * outDim) });
    }
    return LoraAdapters.fromValues(c, base, spec, values, source);
  }

  /** Adapters with given values (a checkpoint, a PEFT folder); missing saved modules copy the base. */
  static fromValues(c: ModelConfig, base: Params, spec: LoraSpec, values: AdapterValues, source: string): LoraAdapters {
    const modules = targetedModules(c, spec.targetModules, source);
    const dims = linearModules(c);
    const adapters = new LoraAdapters(spec, modules);
    modules.forEach((m, index) => {
      const [inDim, outDim] = dims.get(m)!;
      const take = (part: 'A' | 'B', shape: number[]) => {
        const v = values.get(adapterKey(m, part));
        if (!v) throw new UserError(`${source}: the adapter has no lora_${part} for ${m}; it was made with other target_modules`);
        if (v.shape.length !== 2 || v.shape[0] !== shape[0] || v.shape[1] !== shape[1]) {
          throw new UserError(`${source}: lora_${part} of ${m} is [${v.shape}] but r=${spec.r} on this model needs [${shape}]; the adapter belongs to another model or rank`);
        }
        return variableOf(v.data, shape);
      };
      adapters.pairs.set(m, { a: take('A', [inDim, spec.r]), b: take('B', [spec.r, outDim]), index });
    });
    for (const name of savedModuleParams(c, base.keys(), spec.modulesToSave, source)) {
      const given = values.get(name);
      const p = base.get(name)!;
      adapters.saved.set(name, given ? variableOf(given.data, p.shape) : tf.tidy(() => tf.variable(p.clone(), true)));
    }
    const extra = [...values.keys()].filter((k) => !adapters.has(k));
    if (extra.length > 0) throw new UserError(`${source}: the adapter holds ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}, which its settings do not target`);
    return adapters;
  }

  private has(key: string): boolean {
    if (this.saved.has(key)) return true;
    const m = /^(.*)\.lora_([AB])$/.exec(key);
    return m !== null && this.pairs.has(m[1]);
  }

  /** What training updates, keyed by adapterKey names and the saved modules' parameter names. */
  trainable(): Params {
    const out: Params = new Map();
    for (const [m, { a, b }] of this.pairs) {
      out.set(adapterKey(m, 'A'), a);
      out.set(adapterKey(m, 'B'), b);
    }
    for (const [name, v] of this.saved) out.set(name, v);
    return out;
  }

  /** A saved module's trained copy while enabled, else undefined (use the base). */
  override(name: string): tf.Variable | undefined {
    return this.enabled ? this.saved.get(name) : undefined;
  }

  /** x [N, in] -> the low-rank term [N, out] for `module`, or undefined where it has none (or disabled). */
  delta(module: string, x: tf.Tensor2D): tf.Tensor2D | undefined {
    if (!this.enabled) return undefined;
    const pair = this.pairs.get(module);
    if (!pair) return undefined;
    let input = x;
    if (this.spec.dropout > 0 && this.dropoutSeed !== undefined) {
      input = tf.dropout(x, this.spec.dropout, undefined, this.dropoutSeed * 131 + pair.index) as tf.Tensor2D;
    }
    return tf.mul(tf.matMul(tf.matMul(input, pair.a as tf.Tensor2D), pair.b as tf.Tensor2D), this.scale) as tf.Tensor2D;
  }

  /** Runs `fn` on the base model (adapters off), as the reference. */
  async disabled<T>(fn: () => Promise<T>): Promise<T> {
    const was = this.enabled;
    this.enabled = false;
    try {
      return await fn();
    } finally {
      this.enabled = was;
    }
  }

  /** Host copies of every trained value (for checkpoints, a reference snapshot, export). */
  async values(): Promise<AdapterValues> {
    const out: AdapterValues = new Map();
    for (const [key, v] of this.trainable()) out.set(key, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    return out;
  }

  /** Overwrites the trained values (a reference's snapshot swapped in and back). */
  assign(values: AdapterValues): void {
    for (const [key, v] of this.trainable()) {
      const given = values.get(key);
      if (!given) throw new Error(`internal error: no value for adapter tensor ${key}`);
      tf.tidy(() => v.assign(tf.tensor(given.data, v.shape, 'float32')));
    }
  }

  countParameters(): number {
    let n = 0;
    for (const v of this.trainable().values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.trainable().values()) v.dispose();
    this.pairs.clear();
    this.saved.clear();
  }
}

/** A trainable variable holding `data`; the staging tensor is freed. */
function variableOf(data: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(data, shape, 'float32');
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}
