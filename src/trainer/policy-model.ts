// The policy a run trains: the model folder's weights (full fine-tuning) or its frozen base
// with LoRA adapters; and the reference the KL term needs for it.
import { UserError } from '../errors';
import type { CausalLM } from '../model/causal-lm';
import { loadAdapted, loadCausalLM } from '../model/load';
import { DEFAULT_TARGET_MODULES, type LoraSpec } from '../model/lora-targets';
import { ADAPTER_CONFIG_FILE, isAdapterFolder, readAdapterConfig, readAdapterValues } from '../model/peft-adapter';
import type { TensorData } from '../model/safetensors';
import { AdapterReference } from './adapter-reference';
import type { TrainingConfig } from './config';
import { loraSpec } from './lora-config';
import { ReferenceModel, type KlReference } from './reference';

/**
 * The run's adapter settings: the config's `lora`, or the adapter folder's own where
 * lora.adapter_path is given (a setting the config gives besides must agree with it).
 */
export async function runLoraSpec(c: TrainingConfig): Promise<LoraSpec | undefined> {
  if (!c.lora) return undefined;
  const asked = loraSpec(c.lora);
  if (c.lora.adapter_path === undefined) return asked;
  if (!isAdapterFolder(c.lora.adapter_path)) {
    throw new UserError(`lora.adapter_path ${c.lora.adapter_path}: no ${ADAPTER_CONFIG_FILE} there; give a PEFT adapter folder (a LoRA run's checkpoint is one), or remove lora.adapter_path to start fresh adapters`);
  }
  const { spec } = await readAdapterConfig(c.lora.adapter_path);
  // Defaults are filled before this runs, so a value equal to PEFT's default reads as "not
  // given" and yields to the adapter's; any other value must be the adapter's own.
  const differs = (field: string, given: unknown, theirs: unknown, fallback: unknown) => {
    if (JSON.stringify(given) !== JSON.stringify(fallback) && JSON.stringify(given) !== JSON.stringify(theirs)) {
      throw new UserError(
        `lora.${field} is ${JSON.stringify(given)} but the adapter in ${c.lora!.adapter_path} was made with ${JSON.stringify(theirs)}; ` +
          `remove lora.${field} to continue that adapter, or remove lora.adapter_path to start a new one`,
      );
    }
  };
  differs('r', asked.r, spec.r, 8);
  differs('lora_alpha', asked.alpha, spec.alpha, 8);
  differs('target_modules', asked.targetModules, spec.targetModules, DEFAULT_TARGET_MODULES);
  differs('use_rslora', asked.useRslora, spec.useRslora, false);
  return { ...spec, dropout: asked.dropout, modulesToSave: asked.modulesToSave.length > 0 ? asked.modulesToSave : spec.modulesToSave };
}

/** The policy: from the newest checkpoint when resuming, else from the config's model (and adapter). */
export async function loadPolicy(c: TrainingConfig, spec: LoraSpec | undefined, checkpointPath: string | undefined): Promise<CausalLM> {
  if (!spec) return loadCausalLM(checkpointPath ?? c.model_path);
  const from = checkpointPath ?? c.lora?.adapter_path;
  return loadAdapted(c.model_path, { spec, from, seed: c.seed });
}

/**
 * The reference for a run with a KL term: restored from a checkpoint's weights, else started
 * now. `fromStart` (kl_coef raised mid-run, static mode) means the run's starting model.
 */
export async function startReference(
  c: TrainingConfig,
  policy: CausalLM,
  saved: Map<string, TensorData> | undefined,
  fromStart = false,
): Promise<KlReference> {
  const [mode, alpha, every] = [c.reference_mode, c.ema_alpha, c.reference_update_freq] as const;
  if (policy.lora) {
    if (saved) return AdapterReference.restore(mode, alpha, every, saved);
    // A continued adapter's static reference is that adapter: the policy's now, at the start;
    // read again from its folder when kl_coef was raised later.
    const continued = c.lora?.adapter_path;
    const started = mode === 'static' && continued ? (fromStart ? await readAdapterValues(continued, policy.lora.spec) : await policy.lora.values()) : undefined;
    return AdapterReference.start(policy, mode, alpha, every, started);
  }
  if (saved) return ReferenceModel.restore(policy.config, mode, alpha, every, saved);
  if (fromStart && mode === 'static') return ReferenceModel.fromFolder(policy, c.model_path, mode, alpha, every);
  return ReferenceModel.fromPolicy(policy, mode, alpha, every);
}
