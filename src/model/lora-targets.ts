// Which layers a LoRA adapter covers and how large it is, as PEFT decides: pure shape
// arithmetic on the model's config, so the planner and the editor can use it without tensors.
import { UserError } from '../errors';
import type { ModelConfig } from './config';

/** The adapter's shape and meaning; PEFT's LoraConfig fields under their own names. */
export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  /** PEFT's target_modules: module names matched as suffixes, "all-linear", or one full-match regex. */
  targetModules: string[] | string;
  /** Whole modules trained alongside the adapter (PEFT's modules_to_save), such as "lm_head". */
  modulesToSave: string[];
  useRslora: boolean;
}

/** PEFT's default targets for these architectures (its per-model-type mapping). */
export const DEFAULT_TARGET_MODULES = ['q_proj', 'v_proj'];

const LINEAR_MODULES = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];

/** Every linear layer of the decoder by its module name ("model.layers.3.mlp.up_proj"), with [in, out]. */
export function linearModules(c: ModelConfig): Map<string, [number, number]> {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const dims: Record<string, [number, number]> = {
    'self_attn.q_proj': [c.hiddenSize, q],
    'self_attn.k_proj': [c.hiddenSize, kv],
    'self_attn.v_proj': [c.hiddenSize, kv],
    'self_attn.o_proj': [q, c.hiddenSize],
    'mlp.gate_proj': [c.hiddenSize, c.intermediateSize],
    'mlp.up_proj': [c.hiddenSize, c.intermediateSize],
    'mlp.down_proj': [c.intermediateSize, c.hiddenSize],
  };
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < c.numLayers; i++) for (const m of LINEAR_MODULES) out.set(`model.layers.${i}.${m}`, dims[m]);
  return out;
}

/**
 * The module names `targetModules` selects, as PEFT selects them: "all-linear" is every
 * linear layer but the output head; a list matches a module whose name is an entry or ends
 * with "." + entry; a single other string is a regular expression the whole name must match.
 */
export function targetedModules(c: ModelConfig, targetModules: string[] | string, source: string): string[] {
  const all = [...linearModules(c).keys()];
  let chosen: string[];
  if (targetModules === 'all-linear') chosen = all;
  else if (typeof targetModules === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${targetModules})$`);
    } catch (e) {
      throw new UserError(`${source}: target_modules "${targetModules}" is not a regular expression (${(e as Error).message}); give a list of module names such as ["q_proj", "v_proj"]`);
    }
    chosen = all.filter((n) => re.test(n));
  } else {
    const unknown = targetModules.filter((t) => !all.some((n) => n === t || n.endsWith(`.${t}`)));
    if (unknown.length > 0) {
      throw new UserError(
        `${source}: target_modules ${JSON.stringify(unknown)} name no linear layer of this ${c.modelType} model; ` +
          'use q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or "all-linear" (lm_head is trained whole with modules_to_save)',
      );
    }
    chosen = all.filter((n) => targetModules.some((t) => n === t || n.endsWith(`.${t}`)));
  }
  if (chosen.length === 0) throw new UserError(`${source}: target_modules ${JSON.stringify(targetModules)} matches no linear layer; try ["q_proj", "v_proj"] or "all-linear"`);
  return chosen;
}

/** The parameters `modulesToSave` names ("lm_head" -> lm_head.weight, "norm" -> model.norm.weight). */
export function savedModuleParams(c: ModelConfig, params: Iterable<string>, modulesToSave: string[], source: string): string[] {
  const names = [...params];
  const out: string[] = [];
  for (const m of modulesToSave) {
    if (m === 'lm_head' && c.tieWordEmbeddings) {
      throw new UserError(`${source}: modules_to_save "lm_head" on a model with tied embeddings would train the embedding matrix as the head; use "embed_tokens", which is both`);
    }
    const found = names.filter((n) => n === `${m}.weight` || n.endsWith(`.${m}.weight`) || n === `${m}.bias` || n.endsWith(`.${m}.bias`));
    if (found.length === 0) throw new UserError(`${source}: modules_to_save "${m}" names no module of this model; use lm_head, embed_tokens, norm or a layer's module name`);
    out.push(...found);
  }
  return [...new Set(out)];
}

export function loraScale(spec: Pick<LoraSpec, 'r' | 'alpha' | 'useRslora'>): number {
  return spec.useRslora ? spec.alpha / Math.sqrt(spec.r) : spec.alpha / spec.r;
}

/**
 * The adapters' sizes (as adapterSizes) and the floats their low-rank paths produce per token
 * and layer (r and the output width of each adapted layer, averaged over layers): what the
 * memory plan adds to a training step's tape.
 */
export function adapterShape(c: ModelConfig, spec: LoraSpec, shapes: Map<string, number[]>, source: string) {
  const dims = linearModules(c);
  const perLayer = targetedModules(c, spec.targetModules, source).reduce((n, m) => n + spec.r + dims.get(m)![1], 0) / c.numLayers;
  return { sizes: adapterSizes(c, spec, shapes, source), floatsPerTokenLayer: perLayer };
}

/** Element counts of every tensor the adapters train (A and B per layer, each saved module), before loading. */
export function adapterSizes(c: ModelConfig, spec: LoraSpec, shapes: Map<string, number[]>, source: string): number[] {
  const dims = linearModules(c);
  const sizes = targetedModules(c, spec.targetModules, source).flatMap((m) => {
    const [inDim, outDim] = dims.get(m)!;
    return [inDim * spec.r, spec.r * outDim];
  });
  for (const name of savedModuleParams(c, shapes.keys(), spec.modulesToSave, source)) sizes.push(shapes.get(name)!.reduce((a, b) => a * b, 1));
  return sizes;
}
