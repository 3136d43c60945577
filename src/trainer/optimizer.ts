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
 * The moments are long-lived variables owned by this object: call dispose() to free them.
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private stepCount = 0;

  constructor(
    private readonly params: Params,
    readonly settings: AdamWSettings = DEFAULT_ADAMW,
  ) {
    for (const [name, p] of params) {
      const zeros = tf.zerosLike(p);
      this.m.set(name, tf.variable(zeros, false));
      this.v.set(name, tf.variable(zeros, false));
      zeros.dispose(); // each variable holds its own reference to the data
    }
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
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const g = clip === 1 ? grads.get(name)! : tf.mul(grads.get(name)!, clip);
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const decayed = weightDecay > 0 && AdamW.decays(p) ? tf.mul(p, 1 - learningRate * weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBias2), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize)));
        m.assign(mNew);
        v.assign(vNew);
      }
    });
    this.stepCount = t;
    return { applied: true, gradNorm };
  }

  /** A copy of the step count and moments, for a checkpoint. */
  state(): AdamWState {
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const name of this.params.keys()) {
      moments.set(name, {
        m: Float32Array.from(this.m.get(name)!.dataSync() as Float32Array),
        v: Float32Array.from(this.v.get(name)!.dataSync() as Float32Array),
      });
    }
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
    for (const [name, p] of this.params) {
      const saved = state.moments.get(name)!;
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(saved.m, p.shape, 'float32'));
        this.v.get(name)!.assign(tf.tensor(saved.v, p.shape, 'float32'));
      });
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
