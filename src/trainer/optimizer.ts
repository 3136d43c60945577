import * as tf from '@tensorflow/tfjs-core';
import { assert, UserError } from '../errors';
import type { Params } from '../model/params';

export interface AdamWSettings {
  beta1: number; // first-moment decay
  beta2: number; // second-moment decay
  eps: number; // added to sqrt(v_hat): keeps steps finite where a gradient has been ~0
  weightDecay: number; // decoupled: p -= lr * weightDecay * p, on matrices only
  maxGradNorm: number; // clip the global L2 norm to this; 0 disables
}

export const DEFAULT_ADAMW: AdamWSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };

export interface StepResult {
  /** False when a gradient held NaN or Inf: then nothing changed, not even the step count. */
  applied: boolean;
  /** Global L2 norm of the gradients before clipping (NaN or Infinity when not applied). */
  gradNorm: number;
}

/** Everything needed to continue exactly where a run stopped; arrays are copies. */
export interface AdamWState {
  step: number; // updates applied so far
  moments: Map<string, { m: Float32Array; v: Float32Array }>; // by parameter name
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), written out as
 * PyTorch's torch.optim.AdamW computes it, with global-norm clipping as
 * torch.nn.utils.clip_grad_norm_ does it.
 *
 * Weight decay applies to parameters of rank 2 and more (projections, embeddings), as in
 * nanoGPT and the usual transformers recipe; norm weights and biases are not decayed, since
 * pulling a norm's gain towards 0 is not regularisation but damage.
 *
 * The moments are long-lived and owned by this object: call dispose() to free them. They live
 * on the compute backend, or with `hostMoments` in host memory, uploaded one parameter at a
 * time for the update: two model-sized tensors fewer on a backend with little memory (the
 * wasm heap's 4 GiB), for a copy of each moment in and out at every step.
 */
export class AdamW {
  private readonly moments: MomentStore;
  private stepCount = 0;

  constructor(
    private readonly params: Params,
    readonly settings: AdamWSettings = DEFAULT_ADAMW,
    opts: { hostMoments?: boolean } = {},
  ) {
    this.moments = opts.hostMoments ? new HostMoments(params) : new DeviceMoments(params);
  }

  /** Whether the moments are kept in host memory. */
  get hostMoments(): boolean {
    return this.moments instanceof HostMoments;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Whether weight decay applies to `param`: see the class comment. */
  static decays(param: tf.Tensor): boolean {
    return param.rank >= 2;
  }

  /**
   * One update from `grads` (by parameter name, one for every parameter; the caller keeps
   * and disposes them). Reads the gradient norm back from the backend: a sync point.
   */
  async update(grads: Map<string, tf.Tensor>, learningRate: number): Promise<StepResult> {
    assert(grads.size === this.params.size, `AdamW got ${grads.size} gradients for ${this.params.size} parameters`);
    for (const name of grads.keys()) assert(this.params.has(name), `AdamW got a gradient for unknown parameter ${name}`);
    assert(Number.isFinite(learningRate) && learningRate >= 0, `AdamW learning rate must be finite and >= 0, got ${learningRate}`);

    const normTensor = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
    const gradNorm = (await normTensor.data())[0];
    normTensor.dispose();
    // NaN in a gradient makes the norm NaN and Inf makes it Inf, so one check covers both.
    // (A finite gradient whose squares overflow float32 is skipped too: no step could use it.)
    if (!Number.isFinite(gradNorm)) return { applied: false, gradNorm };

    const { beta1, beta2, eps, weightDecay, maxGradNorm } = this.settings;
    const t = this.stepCount + 1;
    const clip = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (gradNorm + 1e-6)) : 1;
    const stepSize = learningRate / (1 - beta1 ** t);
    const sqrtBias2 = Math.sqrt(1 - beta2 ** t);
    // One parameter at a time, so the update's temporaries never exceed one parameter's.
    for (const [name, p] of this.params) {
      const { m, v } = this.moments.get(name);
      const [mNew, vNew] = tf.tidy(() => {
        const g = clip === 1 ? grads.get(name)! : tf.mul(grads.get(name)!, clip);
        const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const decayed = weightDecay > 0 && AdamW.decays(p) ? tf.mul(p, 1 - learningRate * weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(vNext), sqrtBias2), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNext, denom), stepSize)));
        return [mNext, vNext];
      });
      await this.moments.put(name, mNew, vNew);
    }
    this.stepCount = t;
    return { applied: true, gradNorm };
  }

  /** A copy of the step count and moments, for a checkpoint. Read with data(): webgpu has no sync read. */
  async state(): Promise<AdamWState> {
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const name of this.params.keys()) moments.set(name, await this.moments.copy(name));
    return { step: this.stepCount, moments };
  }

  /** Puts back a state from state(); `source` names the checkpoint in error messages. */
  restore(state: AdamWState, source: string): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new UserError(`${source}: optimizer step must be an integer >= 0, got ${state.step}; the checkpoint is damaged, resume from an earlier one`);
    }
    for (const [name, p] of this.params) {
      const saved = state.moments.get(name);
      if (!saved || saved.m.length !== p.size || saved.v.length !== p.size) {
        throw new UserError(
          `${source}: optimizer moments for "${name}" are ${saved ? `of size ${saved.m.length}/${saved.v.length}` : 'missing'}, expected size ${p.size}; ` +
            'the checkpoint belongs to a different model, resume with the model it was saved from',
        );
      }
    }
    for (const name of this.params.keys()) this.moments.load(name, state.moments.get(name)!);
    this.stepCount = state.step;
  }

  dispose(): void {
    this.moments.dispose();
  }
}

/** Where the two moments of every parameter are kept. */
interface MomentStore {
  /** The moments of `name` as tensors; for a host store they are the caller's until put back. */
  get(name: string): { m: tf.Tensor; v: tf.Tensor };
  /** Replaces the moments of `name` with these tensors, which the store takes over. */
  put(name: string, m: tf.Tensor, v: tf.Tensor): Promise<void>;
  copy(name: string): Promise<{ m: Float32Array; v: Float32Array }>;
  load(name: string, values: { m: Float32Array; v: Float32Array }): void;
  dispose(): void;
}

class DeviceMoments implements MomentStore {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(params: Params) {
    for (const [name, p] of params) {
      const zeros = tf.zerosLike(p);
      this.m.set(name, tf.variable(zeros, false));
      this.v.set(name, tf.variable(zeros, false));
      zeros.dispose(); // each variable holds its own reference to the data
    }
  }

  get(name: string) {
    return { m: this.m.get(name)!, v: this.v.get(name)! };
  }

  async put(name: string, m: tf.Tensor, v: tf.Tensor): Promise<void> {
    this.m.get(name)!.assign(m);
    this.v.get(name)!.assign(v);
    tf.dispose([m, v]);
  }

  async copy(name: string) {
    return { m: Float32Array.from((await this.m.get(name)!.data()) as Float32Array), v: Float32Array.from((await this.v.get(name)!.data()) as Float32Array) };
  }

  load(name: string, values: { m: Float32Array; v: Float32Array }): void {
    const m = this.m.get(name)!;
    tf.tidy(() => {
      m.assign(tf.tensor(values.m, m.shape, 'float32'));
      this.v.get(name)!.assign(tf.tensor(values.v, m.shape, 'float32'));
    });
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}

class HostMoments implements MomentStore {
  private readonly values = new Map<string, { m: Float32Array; v: Float32Array; shape: number[] }>();

  constructor(params: Params) {
    for (const [name, p] of params) this.values.set(name, { m: new Float32Array(p.size), v: new Float32Array(p.size), shape: p.shape });
  }

  private readonly lent = new Map<string, tf.Tensor[]>(); // uploaded by get, freed by put

  get(name: string) {
    const x = this.values.get(name)!;
    const up = { m: tf.tensor(x.m, x.shape, 'float32'), v: tf.tensor(x.v, x.shape, 'float32') };
    this.lent.set(name, [up.m, up.v]);
    return up;
  }

  async put(name: string, m: tf.Tensor, v: tf.Tensor): Promise<void> {
    const x = this.values.get(name)!;
    x.m.set((await m.data()) as Float32Array);
    x.v.set((await v.data()) as Float32Array);
    tf.dispose([m, v, ...(this.lent.get(name) ?? [])]);
    this.lent.delete(name);
  }

  async copy(name: string) {
    const x = this.values.get(name)!;
    return { m: Float32Array.from(x.m), v: Float32Array.from(x.v) };
  }

  load(name: string, values: { m: Float32Array; v: Float32Array }): void {
    const x = this.values.get(name)!;
    x.m.set(values.m);
    x.v.set(values.v);
  }

  dispose(): void {
    this.values.clear();
  }
}
