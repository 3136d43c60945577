import type { CausalLM } from '../model/causal-lm';
import type { AdapterValues } from '../model/lora';
import type { TensorData } from '../model/safetensors';
import type { ReferenceMode } from './config';
import type { MemoryPlan } from './memory-plan';
import type { KlReference } from './reference';
import { scoreCompletions, type SequenceBatch } from './sequence-batch';

/**
 * The reference of a LoRA run, which shares the policy's frozen base weights: no second copy
 * of the model is held. Static: the model the run started from, as TRL does with PEFT: the
 * base with the adapters off for fresh adapters, or a host snapshot of the adapter the run
 * continues (lora.adapter_path; TRL's frozen "ref" copy). EMA and periodic: a host snapshot
 * of the adapters, swapped in only while scoring.
 */
export class AdapterReference implements KlReference {
  private constructor(
    private readonly mode: ReferenceMode,
    private readonly alpha: number,
    private readonly every: number,
    private snapshot: AdapterValues | undefined,
  ) {}

  /** `started`: a static reference's adapter values, where the run continues an adapter. */
  static async start(policy: CausalLM, mode: ReferenceMode, alpha: number, every: number, started?: AdapterValues): Promise<AdapterReference> {
    return new AdapterReference(mode, alpha, every, mode === 'static' ? started : await adapters(policy).values());
  }

  static restore(mode: ReferenceMode, alpha: number, every: number, saved: Map<string, TensorData> | undefined): AdapterReference {
    return new AdapterReference(mode, alpha, every, saved);
  }

  async completionLogprobs(batch: SequenceBatch, temperature: number, plan: Pick<MemoryPlan, 'scoreRows' | 'vocabChunk'>, policy?: CausalLM): Promise<Float32Array> {
    if (!policy) throw new Error('internal error: a LoRA reference scores with the policy\'s base weights');
    const lora = adapters(policy);
    const score = () => scoreCompletions(policy, batch, temperature, plan.scoreRows, { vocabChunk: plan.vocabChunk });
    if (!this.snapshot) return lora.disabled(score);
    const current = await lora.values();
    lora.assign(this.snapshot);
    try {
      return await score();
    } finally {
      lora.assign(current);
    }
  }

  async afterIteration(policy: CausalLM, iteration: number): Promise<void> {
    if (this.mode === 'static' || !this.snapshot) return;
    if (this.mode === 'periodic') {
      if (iteration % this.every === 0) this.snapshot = await adapters(policy).values();
      return;
    }
    const current = await adapters(policy).values();
    for (const [key, ref] of this.snapshot) {
      const p = current.get(key)!.data;
      const r = ref.data;
      for (let i = 0; i < r.length; i++) r[i] = (1 - this.alpha) * r[i] + this.alpha * p[i];
    }
  }

  /** What a checkpoint keeps: the snapshot (ema, periodic, a continued adapter); nothing for the base. */
  tensors(): Map<string, TensorData> | undefined {
    return this.snapshot;
  }
}

function adapters(policy: CausalLM) {
  if (!policy.lora) throw new Error('internal error: an adapter reference for a policy without adapters');
  return policy.lora;
}
