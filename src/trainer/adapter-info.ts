import type { CausalLM } from '../model/causal-lm';

/** What a LoRA run trains, for people: the run-started event and the run folder's adapter.json. */
export interface AdapterInfo {
  r: number;
  lora_alpha: number;
  /** The short names of the layers adapted (q_proj, ...), and how many layers of the model they are. */
  target_modules: string[];
  adapted_layers: number;
  modules_to_save: string[];
  use_rslora: boolean;
  /** Elements trained (the adapters and saved modules) and in the frozen base. */
  trainable_parameters: number;
  base_parameters: number;
}

export const ADAPTER_INFO_FILE = 'adapter.json';

export function adapterInfo(policy: CausalLM): AdapterInfo | undefined {
  const lora = policy.lora;
  if (!lora) return undefined;
  let base = 0;
  for (const v of policy.params.values()) base += v.size;
  return {
    r: lora.spec.r,
    lora_alpha: lora.spec.alpha,
    target_modules: [...new Set(lora.modules.map((m) => m.split('.').pop()!))].sort(),
    adapted_layers: lora.modules.length,
    modules_to_save: lora.spec.modulesToSave,
    use_rslora: lora.spec.useRslora,
    trainable_parameters: lora.countParameters(),
    base_parameters: base,
  };
}

/** "LoRA r=16 (alpha 32) on q_proj, v_proj: 0.59M trained of 134.5M" */
export function describeAdapter(a: AdapterInfo): string {
  const m = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 3 : 2)}M`;
  const saved = a.modules_to_save.length > 0 ? `, ${a.modules_to_save.join(', ')} trained whole` : '';
  return `LoRA r=${a.r} (alpha ${a.lora_alpha}${a.use_rslora ? ', rsLoRA' : ''}) on ${a.target_modules.join(', ')}${saved}: ${m(a.trainable_parameters)} trained of ${m(a.base_parameters)}`;
}
