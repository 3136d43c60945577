// The `lora` setting of grpo.config.json: PEFT's LoraConfig under PEFT's names and defaults,
// so a TRL + PEFT user's adapter settings mean the same here.
import { DEFAULT_TARGET_MODULES, type LoraSpec } from '../model/lora-targets';
import { flag, integer, optionalPath, optionalTexts, real, type Field, type ValuesOf } from './config-fields';

const targetModules: Field<string[] | string> = {
  doc: 'The linear layers that get adapters, as PEFT reads target_modules: a list of module names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj), "all-linear" for all of them (not the output head), or one regular expression the whole module name must match ("model\\\\.layers\\\\.[0-3]\\\\..*_proj"). PEFT\'s default for llama, qwen2 and mistral: q_proj and v_proj.',
  default: DEFAULT_TARGET_MODULES,
  schema: { oneOf: [{ type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }, { type: 'string', minLength: 1 }] },
  check: (v) => {
    if (typeof v === 'string' && v !== '') return { ok: true, value: v };
    if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '')) return { ok: true, value: [...(v as string[])] };
    return { ok: false, expected: 'a non-empty list of module names, "all-linear", or a regular expression' };
  },
};

export const LORA_FIELDS = {
  r: integer({ min: 1, default: 8, doc: 'The adapter rank: A is [in, r] and B is [r, out] for each targeted layer. PEFT\'s default 8; 16-64 are common for RL fine-tuning.' }),
  lora_alpha: real({ above: 0, default: 8, doc: 'PEFT\'s lora_alpha: the low-rank update is scaled by lora_alpha / r (or lora_alpha / sqrt(r) with use_rslora). Default 8, as PEFT.' }),
  lora_dropout: real({
    min: 0,
    below: 1,
    default: 0,
    doc: 'Dropout on each adapter\'s input while computing the loss (not while sampling or scoring the rollout, whose log-probabilities the ratio needs exactly). Default 0, as PEFT; seeded, so a resume is exact.',
  }),
  target_modules: targetModules,
  modules_to_save: optionalTexts({
    doc: 'Modules trained whole besides the adapters, as PEFT\'s modules_to_save: "lm_head", "embed_tokens" (with tied embeddings, the head too), "norm". Saved in the adapter file.',
  }),
  use_rslora: flag({ default: false, doc: 'rsLoRA (Kalajdzievski 2023): scale by lora_alpha / sqrt(r) instead of lora_alpha / r, which keeps large ranks learning.' }),
  adapter_path: optionalPath({
    doc: 'A PEFT adapter folder (adapter_config.json, adapter_model.safetensors) to start from instead of fresh adapters. Its r, lora_alpha, target_modules, modules_to_save and use_rslora are used; settings given here must agree with them. With kl_coef > 0 the static reference is this adapter as the run started (as TRL\'s "ref" copy), not the base.',
  }),
};

export type LoraSettings = ValuesOf<typeof LORA_FIELDS>;

export function loraSpec(s: LoraSettings): LoraSpec {
  return {
    r: s.r,
    alpha: s.lora_alpha,
    dropout: s.lora_dropout,
    targetModules: s.target_modules,
    modulesToSave: s.modules_to_save ?? [],
    useRslora: s.use_rslora,
  };
}
