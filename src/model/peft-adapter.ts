// PEFT's LoRA adapter folder: adapter_config.json and adapter_model.safetensors, read and
// written so that `PeftModel.from_pretrained(base, folder)` loads what we train and an
// adapter PEFT trained loads here. test/fixtures/peft/ holds adapters PEFT wrote and the
// log-probabilities PEFT computed with them.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors';
import { adapterKey, type AdapterValues, type LoraAdapters, type LoraSpec } from './lora';
import { isLinearWeight } from './params';
import { readSafetensors, writeSafetensors, type TensorData } from './safetensors';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** PEFT's prefix for the base model's module names in a saved causal-LM adapter. */
const PREFIX = 'base_model.model.';

export const isAdapterFolder = (dir: string): boolean => existsSync(join(dir, ADAPTER_CONFIG_FILE));

export interface AdapterConfig {
  spec: LoraSpec;
  /** base_model_name_or_path as written (a path here; hub ids cannot be fetched). */
  baseModel: string;
}

/** Reads adapter_config.json, refusing what PEFT can express and we do not compute. */
export async function readAdapterConfig(dir: string): Promise<AdapterConfig> {
  const file = join(dir, ADAPTER_CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: cannot be read as JSON (${(e as Error).message})`);
  }
  const bad = (field: string, why: string): never => {
    throw new UserError(`${file}: "${field}" ${why}`);
  };
  if (raw.peft_type !== 'LORA') bad('peft_type', `is ${JSON.stringify(raw.peft_type)}; only LoRA adapters ("LORA") are supported`);
  const r = raw.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) bad('r', 'must be a positive integer');
  const alpha = raw.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) bad('lora_alpha', 'must be a positive number');
  const dropout = raw.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || dropout < 0 || dropout >= 1) bad('lora_dropout', 'must be in [0, 1)');
  const targets = raw.target_modules;
  const targetOk = typeof targets === 'string' || (Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string'));
  if (!targetOk) bad('target_modules', 'must be a list of module names or a regular expression');
  const saved = raw.modules_to_save ?? [];
  if (!Array.isArray(saved) || !saved.every((t) => typeof t === 'string')) bad('modules_to_save', 'must be a list of module names or null');
  // What PEFT can say that this engine does not compute: refused rather than ignored.
  if (raw.use_dora === true) bad('use_dora', 'is true; DoRA adapters are not supported, only plain LoRA');
  if (raw.fan_in_fan_out === true) bad('fan_in_fan_out', 'is true; that is for GPT-2 style Conv1D layers, which LLaMA-family models do not have');
  if (raw.bias !== undefined && raw.bias !== 'none') bad('bias', `is ${JSON.stringify(raw.bias)}; only "none" (no trained biases) is supported`);
  for (const f of ['layers_to_transform', 'layer_replication', 'target_parameters']) {
    if (raw[f] !== undefined && raw[f] !== null) bad(f, 'is set; adapters on some layers only are not supported');
  }
  for (const f of ['rank_pattern', 'alpha_pattern']) {
    const v = raw[f];
    if (v !== undefined && v !== null && Object.keys(v as object).length > 0) bad(f, 'is set; one r and lora_alpha for every module is supported');
  }
  const useRslora = raw.use_rslora === true;
  return {
    spec: { r: r as number, alpha: alpha as number, dropout: dropout as number, targetModules: targets as string[] | string, modulesToSave: saved as string[], useRslora },
    baseModel: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : '',
  };
}

/**
 * The base model folder an adapter folder names: an absolute path, else relative to the
 * adapter folder, else to the current folder (where PEFT would look).
 */
export function baseModelFolder(dir: string, baseModel: string): string {
  const candidates = isAbsolute(baseModel) ? [baseModel] : [resolve(dir, baseModel), resolve(baseModel)];
  const found = baseModel === '' ? undefined : candidates.find((c) => existsSync(join(c, 'config.json')));
  if (!found) {
    throw new UserError(
      `${join(dir, ADAPTER_CONFIG_FILE)}: base_model_name_or_path ${JSON.stringify(baseModel)} is not a model folder here; ` +
        'set it to the path of the base model folder (hub ids cannot be downloaded)',
    );
  }
  return found;
}

/** The adapter's tensors in our layout and names (adapterKey; saved modules by parameter name). */
export async function readAdapterValues(dir: string, spec: LoraSpec): Promise<AdapterValues> {
  const file = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(file)) throw new UserError(`${file}: not found; an adapter folder needs ${ADAPTER_WEIGHTS_FILE} (adapter_model.bin is not read)`);
  const raw = await readSafetensors(file);
  const out: AdapterValues = new Map();
  for (const [name, t] of raw) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(name);
    if (m) {
      // PEFT: lora_A [r, in], lora_B [out, r]; ours are the transposes.
      out.set(adapterKey(m[1], m[2] as 'A' | 'B'), transposed(t));
      continue;
    }
    if (!name.startsWith(PREFIX)) throw new UserError(`${file}: tensor "${name}" is not named as PEFT names adapter tensors (base_model.model....)`);
    const param = name.slice(PREFIX.length).replace('.modules_to_save.default.', '.');
    if (!spec.modulesToSave.some((s) => param === `${s}.weight` || param.endsWith(`.${s}.weight`) || param.endsWith(`.${s}.bias`))) {
      throw new UserError(`${file}: tensor "${name}" is neither a LoRA matrix nor one of modules_to_save ${JSON.stringify(spec.modulesToSave)}`);
    }
    out.set(param, isLinearWeight(param) ? transposed(t) : t);
  }
  return out;
}

/** Writes `adapters` as a PEFT adapter folder (F32). */
export async function writeAdapterFolder(dir: string, adapters: LoraAdapters, baseModel: string): Promise<void> {
  const values = await adapters.values();
  const tensors = new Map<string, TensorData>();
  for (const [key, t] of values) {
    const m = /^(.+)\.lora_([AB])$/.exec(key);
    if (m) tensors.set(`${PREFIX}${m[1]}.lora_${m[2]}.weight`, transposed(t));
    else tensors.set(`${PREFIX}${key}`, isLinearWeight(key) ? transposed(t) : t);
  }
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { dtype: 'F32' });
  await writeFile(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(adapterConfigJson(adapters, baseModel), null, 2) + '\n');
}

function adapterConfigJson(adapters: LoraAdapters, baseModel: string): Record<string, unknown> {
  const s = adapters.spec;
  // Targets as PEFT writes them after matching: the distinct short module names.
  const targets = typeof s.targetModules === 'string' && s.targetModules !== 'all-linear'
    ? s.targetModules
    : [...new Set(adapters.modules.map((m) => m.split('.').pop()!))].sort();
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: s.r,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    target_modules: targets,
    modules_to_save: s.modulesToSave.length > 0 ? s.modulesToSave : null,
    use_rslora: s.useRslora,
    bias: 'none',
    fan_in_fan_out: false,
    init_lora_weights: true,
    inference_mode: true,
    use_dora: false,
    layers_to_transform: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

function transposed(t: TensorData): TensorData {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = t.data[i * cols + j];
  return { shape: [cols, rows], data: out };
}
