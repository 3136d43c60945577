import { CausalLM } from '../model/causal-lm';
import type { ModelConfig } from '../model/config';
import { paramsFromTensors, tensorsFromParams } from '../model/params';
import type { TensorData } from '../model/safetensors';
import { readModelWeights } from '../model/weights-files';
import type { ReferenceMode } from './config';
import type { MemoryPlan } from './memory-plan';
import { scoreCompletions, type SequenceBatch } from './sequence-batch';

/** What the KL term needs of a reference: its log-probabilities, its updates, its saved state. */
export interface KlReference {
  /** `policy` is passed for references that share its weights (LoRA's). */
  completionLogprobs(batch: SequenceBatch, temperature: number, plan: Pick<MemoryPlan, 'scoreRows' | 'vocabChunk'>, policy?: CausalLM): Promise<Float32Array>;
  afterIteration(policy: CausalLM, iteration: number): Promise<void>;
  /** Weights for a checkpoint, or undefined when there is nothing of its own to keep. */
  tensors(): Map<string, TensorData> | undefined;
}

/**
 * The reference model the KL term holds the policy near. Its weights live in host memory
 * (plain arrays, HF layout) between rollouts and are uploaded to the compute backend only
 * to score a rollout, so training holds one model's worth of backend memory, not two.
 */
export class ReferenceModel implements KlReference {
  private constructor(
    private readonly config: ModelConfig,
    private readonly mode: ReferenceMode,
    private readonly alpha: number, // ema: weight of the policy in each update
    private readonly every: number, // periodic: iterations between copies
    private weights: Map<string, TensorData>,
  ) {}

  static async fromPolicy(policy: CausalLM, mode: ReferenceMode, alpha: number, every: number): Promise<ReferenceModel> {
    return new ReferenceModel(policy.config, mode, alpha, every, await tensorsFromParams(policy.params));
  }

  /**
   * A reference from the weights in a model folder (the run's starting model), for a run that
   * began without one and had kl_coef raised above 0 while training.
   */
  static async fromFolder(policy: CausalLM, modelDir: string, mode: ReferenceMode, alpha: number, every: number): Promise<ReferenceModel> {
    return new ReferenceModel(policy.config, mode, alpha, every, await readModelWeights(modelDir, [...policy.params.keys()]));
  }

  static restore(config: ModelConfig, mode: ReferenceMode, alpha: number, every: number, weights: Map<string, TensorData>): ReferenceModel {
    return new ReferenceModel(config, mode, alpha, every, weights);
  }

  /** Log-probabilities of each completion token under the reference: [rows * C], in the plan's chunks. */
  async completionLogprobs(batch: SequenceBatch, temperature: number, plan: Pick<MemoryPlan, 'scoreRows' | 'vocabChunk'>): Promise<Float32Array> {
    const model = new CausalLM(this.config, paramsFromTensors(this.config, this.weights, 'reference model'));
    try {
      return await scoreCompletions(model, batch, temperature, plan.scoreRows, { vocabChunk: plan.vocabChunk });
    } finally {
      model.dispose();
    }
  }

  /** Moves the reference after iteration `iteration` (1-based) finished its updates. */
  async afterIteration(policy: CausalLM, iteration: number): Promise<void> {
    if (this.mode === 'static') return;
    if (this.mode === 'periodic') {
      if (iteration % this.every === 0) this.weights = await tensorsFromParams(policy.params);
      return;
    }
    const current = await tensorsFromParams(policy.params);
    for (const [name, ref] of this.weights) {
      const p = current.get(name)!.data;
      const r = ref.data;
      for (let i = 0; i < r.length; i++) r[i] = (1 - this.alpha) * r[i] + this.alpha * p[i];
    }
  }

  /** The weights, HF layout, for checkpoints. */
  tensors(): Map<string, TensorData> {
    return this.weights;
  }
}
