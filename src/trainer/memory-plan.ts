// Memory is planned, not discovered. From the model's shape and the training settings this
// estimates the bytes each phase of an iteration holds on the compute backend, and sizes its
// chunks to a budget: rows scored at once, rows per micro-batch of an optimizer step, and the
// vocabulary slice of the output head (model/chunked-head.ts). A config whose smallest chunks
// cannot fit is refused before training with the figures and the setting to change.
//
// The per-token figures count the float32 tensors each op keeps: the tape's saved inputs and
// outputs for the backward pass (a clone shares its data, so a tensor saved twice counts once),
// or, without a tape, the largest layer's intermediates (causal-lm.ts frees each layer's as it
// finishes). bench/RESULTS.md compares them with measured peaks.
import { totalmem } from 'node:os';
import { UserError } from '../errors';
import type { ModelConfig } from '../model/config';
import type { adapterShape } from '../model/lora-targets';
import type { TrainingConfig } from './config';

const F32 = 4;
const MIB = 1024 * 1024;

/** The wasm backend's 32-bit heap. */
export const WASM_HEAP_BYTES = 4 * 1024 * MIB;
const WASM_SHARE = 0.75;

/** A LoRA run's adapters, for the plan: every trained tensor's size, and what the low-rank paths add per token and layer. */
export type AdapterShape = ReturnType<typeof adapterShape>;

/** What the plan works from besides the model. */
export interface PlanInput {
  parameters: number;
  rows: number; // completions per rollout
  minibatch: number; // completions per optimizer step
  promptTokens: number; // the longest prompt (max_prompt_tokens)
  completionTokens: number; // the longest completion (max_new_tokens)
  prompts: number; // prompts per rollout (prefill rows)
  reference: boolean; // a KL term: the reference scores each rollout
  budgetBytes: number; // what the backend may hold
  largestParameter: number; // elements of the largest parameter: the optimizer updates one at a time
  /** gradient_checkpointing: recompute each layer in the backward pass; auto decides by RECOMPUTE_ABOVE. */
  recompute: boolean | 'auto';
  /** LoRA: what is trained (gradients and moments are for these alone) and the largest of them. */
  trainable?: { parameters: number; largest: number; headTrained: boolean; adapterFloatsPerTokenLayer: number };
}

/** Chunk sizes and the peak each phase is expected to reach with them, in bytes. */
export interface MemoryPlan {
  budgetBytes: number;
  vocabChunk: number; // output-head slice, in tokens
  scoreRows: number; // rows scored at once (old and reference log-probabilities)
  microRows: number; // rows per micro-batch of an optimizer step
  hostMoments: boolean; // Adam's moments in host memory, off the backend (optimizer.ts)
  recompute: boolean; // each decoder layer recomputed in the backward pass (model/layer-recompute.ts)
  stepActivationBytes: number; // what a whole optimizer step's layers would hold for its backward pass, unsplit
  phases: { generate: number; score: number; reference: number; update: number };
  peakBytes: number;
}

/**
 * Floats one token holds per layer in a training step, at the backward pass's peak. The tape
 * saves about 11 d + 4 kv + heads x keys + 5 ffn per token and layer (the normed inputs, q and
 * k before and after rotation, their transposes, v, the attention probabilities, the MLP's
 * gate, activation and products, the residual stream); the backward pass holds the gradient
 * of each on top while it walks back: 3.2 times the tape on the 25M shape, 3.1 on the 135M.
 */
function trainingFloatsPerTokenLayer(c: ModelConfig, keys: number): number {
  const d = c.hiddenSize;
  const kv = c.numKvHeads * c.headDim;
  return 3.2 * (11 * d + 4 * kv + c.numHeads * keys + 5 * c.intermediateSize);
}

/**
 * Floats one token holds per layer when layers are recomputed (layer-recompute.ts): every
 * layer keeps its input, and the layer being walked back holds its own tape and gradients.
 * From measured peaks (PeakMemory over one step, less the gradients and the head's matrices):
 * 34k floats a token at the 25M shape and 96 tokens, 49k at 384, 35k at the 135M shape and 96;
 * this gives 45k, 55k and 77k.
 */
function recomputedFloatsPerToken(c: ModelConfig, keys: number): number {
  return c.numLayers * c.hiddenSize + 1.3 * trainingFloatsPerTokenLayer(c, keys);
}

/** Floats one token holds within a single layer without a tape (freed when the layer ends). */
function layerFloatsPerToken(c: ModelConfig, keys: number): number {
  return 8 * c.hiddenSize + 3 * c.numHeads * keys + 4 * c.intermediateSize;
}

/** The output head over one slice of `tokens` positions: logits and the softmax terms (about 5 copies forward, 8 backward). */
function headBytes(tokens: number, vocabChunk: number, backward: boolean): number {
  return tokens * vocabChunk * F32 * (backward ? 8 : 5);
}

/**
 * auto recomputes layers where an optimizer step's stored activations (all its micro-batches
 * together) would pass this: above it recomputation saves gigabytes (a 25M micro-batch of 16 rows x 96 tokens: 2.65 GB -> 0.50 GB
 * at the step's peak) for one more forward pass of the layers (+8% on that step's time, and
 * at 135M the larger micro-batches it allows are 15% faster a row than two stored rows);
 * below it the saving is small next to the weights and the extra pass is pure cost.
 */
export const RECOMPUTE_ABOVE = 512 * MIB;

/** The plan with layers recomputed or not as gradient_checkpointing says, auto deciding by RECOMPUTE_ABOVE. */
export function planMemory(c: ModelConfig, p: PlanInput): MemoryPlan {
  if (p.recompute !== 'auto') return planStorage(c, p, p.recompute);
  const stored = planStorage(c, p, false);
  return stored.stepActivationBytes > RECOMPUTE_ABOVE || stored.peakBytes > p.budgetBytes ? planStorage(c, p, true) : stored;
}

/**
 * Chunks for the budget, with Adam's moments on the backend where that fits and in host
 * memory where it does not (two model-sized tensors fewer, for a copy in and out per step).
 */
function planStorage(c: ModelConfig, p: PlanInput, recompute: boolean): MemoryPlan {
  const onDevice = planWith(c, p, false, recompute);
  // Moments on the backend replace the largest tensors (a parameter and its two moments) every
  // step, new before old, which fragments the heap by about that much beyond the live peak: a
  // 135M step planned at 2,917 of 3,072 MiB with its moments there aborted the 4 GiB wasm heap
  // (bench/RESULTS.md, 2026-12-08). So they stay on the backend only with that room to spare.
  const churn = 3 * (p.trainable?.largest ?? p.largestParameter) * F32;
  return onDevice.peakBytes + churn <= p.budgetBytes ? onDevice : planWith(c, p, true, recompute);
}

function planWith(c: ModelConfig, p: PlanInput, hostMoments: boolean, recompute: boolean): MemoryPlan {
  const weights = p.parameters * F32;
  const trained = (p.trainable?.parameters ?? p.parameters) * F32;
  const largestTrained = p.trainable?.largest ?? p.largestParameter;
  const moments = hostMoments ? 0 : 2 * trained;
  const seq = p.promptTokens + p.completionTokens;
  const fixed = weights + moments; // the policy, and its Adam moments unless they are on the host
  // The head as [hidden, vocab]: a transposed copy of tied embeddings, and in the backward
  // pass its gradient, built from slices, and the embedding's.
  const headMatrix = c.hiddenSize * c.vocabSize * F32;
  const room = Math.max(0, p.budgetBytes - fixed);

  // The head's slice: whole when the update's backward slices fit in an eighth of the room.
  const vocabChunk = pickVocabChunk(c.vocabSize, Math.min(p.minibatch, p.rows) * p.completionTokens, room / 8);
  const scoreWith = (rows: number) =>
    headMatrix + rows * seq * (2 * c.hiddenSize + layerFloatsPerToken(c, seq)) * F32 + headBytes(rows * p.completionTokens, vocabChunk, false);
  const scoreRows = largestFitting(p.rows, (r) => scoreWith(r) <= room / 2);
  const score = fixed + scoreWith(scoreRows);
  // The reference's weights join the policy's; a LoRA reference shares the base (a snapshot of the adapters at most).
  const reference = !p.reference ? 0 : p.trainable ? score + trained : score + weights + headMatrix;

  // One micro-batch: its tokens' activations and their gradients, the head's backward
  // slices, the parameters' gradients (twice when a step accumulates micro-batches).
  const activationsOf = (rows: number) => {
    // Each adapted layer adds its low-rank path to the tape (x A, its product with B, the
    // scaled sum): per token about r plus one more output of that layer, held several times
    // over. Measured with every linear layer adapted at r 16: 3.5 copies fit the 25M shape
    // (2711 MiB), 5.1 the 135M one (3222 MiB); the larger is planned, erring on the safe side.
    const adapter = 5.1 * (p.trainable?.adapterFloatsPerTokenLayer ?? 0);
    const perToken = recompute ? recomputedFloatsPerToken(c, seq) + adapter : c.numLayers * (trainingFloatsPerTokenLayer(c, seq) + adapter);
    return rows * seq * perToken * F32;
  };
  const updateWith = (rows: number) => {
    // A split step sums its gradients: a second set on the backend, or in host memory with the moments.
    const grads = (rows < p.minibatch && !hostMoments ? 2 : 1) * trained;
    const head = (p.trainable && !p.trainable.headTrained ? 2 : 4) * headMatrix; // no head gradient when it is frozen
    return fixed + grads + head + activationsOf(rows) + headBytes(rows * p.completionTokens, vocabChunk, true);
  };
  const microRows = largestFitting(p.minibatch, (r) => updateWith(r) <= p.budgetBytes, (r) => p.minibatch % r === 0);
  // The optimizer's step: every gradient, and one parameter's moments (uploaded when on the host) and temporaries.
  const optimizerStep = fixed + trained + 8 * largestTrained * F32;
  const update = Math.max(updateWith(microRows), optimizerStep);

  // Generation: the KV cache of every row at full length, twice (each decoding step returns
  // a grown cache before the old one is freed), the prefill's largest layer, a step's logits.
  const kvPerRow = c.numLayers * 2 * c.numKvHeads * c.headDim * seq * F32;
  const prefill = p.prompts * p.promptTokens * layerFloatsPerToken(c, p.promptTokens) * F32;
  const generate = fixed + headMatrix + 2 * p.rows * kvPerRow + Math.max(prefill, p.rows * c.vocabSize * F32 * 4);

  const phases = { generate, score, reference, update };
  return { budgetBytes: p.budgetBytes, vocabChunk, scoreRows, microRows, hostMoments, recompute, stepActivationBytes: activationsOf(p.minibatch), phases, peakBytes: Math.max(...Object.values(phases)) };
}

/** The largest n in 1..max with fits(n) (and ok(n)), or 1. */
function largestFitting(max: number, fits: (n: number) => boolean, ok: (n: number) => boolean = () => true): number {
  for (let n = max; n > 1; n--) if (ok(n) && fits(n)) return n;
  return 1;
}

/** The whole vocabulary when its logits fit in `bytes`, else the largest power-of-two slice that does (at least 1024). */
function pickVocabChunk(vocab: number, tokens: number, bytes: number): number {
  if (headBytes(tokens, vocab, true) <= bytes) return vocab;
  let chunk = 1024;
  while (chunk * 2 < vocab && headBytes(tokens, chunk * 2, true) <= bytes) chunk *= 2;
  return chunk;
}

export const mib = (bytes: number): string => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;

/**
 * What the backend may hold: `configuredMb` when set (memory_budget_mb), else 75% of the wasm
 * heap on wasm (its allocator fragments: a 135M training step's 3.07 GB of live buffers took
 * a 3.75 GB heap), and
 * never more than 70% of the machine's memory, which the process shares with the reference
 * model's host copy, the rollouts and the rest of the system.
 */
export function memoryBudget(backend: string, configuredMb: number, machineBytes = totalmem()): { bytes: number; why: string } {
  if (configuredMb > 0) return { bytes: configuredMb * MIB, why: `memory_budget_mb ${configuredMb}` };
  const machine = Math.floor(0.7 * machineBytes);
  if (backend === 'wasm' && WASM_SHARE * WASM_HEAP_BYTES < machine) return { bytes: Math.floor(WASM_SHARE * WASM_HEAP_BYTES), why: '75% of the wasm backend\'s 4 GiB heap' };
  return { bytes: machine, why: `70% of this machine's ${mib(machineBytes)}` };
}

/**
 * The plan for a training run, refused with the figures and the settings to change when even
 * its smallest chunks (one row scored at a time, one row per micro-batch, the head in slices)
 * exceed the budget.
 */
export function planTraining(
  config: TrainingConfig,
  model: ModelConfig,
  shapes: Iterable<number[]>,
  longestPrompt: number,
  backend: string,
  adapters?: AdapterShape,
  machineBytes = totalmem(),
): MemoryPlan & { budgetWhy: string } {
  const budget = memoryBudget(backend, config.memory_budget_mb, machineBytes);
  const sizes = [...shapes].map((s) => s.reduce((a, b) => a * b, 1));
  const parameters = sizes.reduce((a, b) => a + b, 0);
  const plan = planMemory(model, {
    parameters,
    largestParameter: Math.max(...sizes),
    rows: config.rollout_batch_size * config.group_size,
    minibatch: config.minibatch_size,
    promptTokens: Math.min(longestPrompt, config.max_prompt_tokens),
    completionTokens: config.max_new_tokens,
    prompts: config.rollout_batch_size,
    reference: config.kl_coef > 0,
    budgetBytes: budget.bytes,
    recompute: config.gradient_checkpointing,
    trainable: adapters && {
      parameters: adapters.sizes.reduce((a, b) => a + b, 0),
      largest: Math.max(...adapters.sizes),
      headTrained: (config.lora?.modules_to_save ?? []).some((m) => m === 'lm_head' || m === 'embed_tokens'),
      adapterFloatsPerTokenLayer: adapters.floatsPerTokenLayer,
    },
  });
  if (plan.peakBytes > budget.bytes) {
    const [phase, bytes] = Object.entries(plan.phases).reduce((a, b) => (b[1] > a[1] ? b : a));
    throw new UserError(
      `this run needs about ${mib(bytes)} in its ${phase} phase (the weights alone ${mib(parameters * F32)}, with Adam's moments in host memory), more than the ${mib(budget.bytes)} ` +
        `it may use (${budget.why}). Lower max_new_tokens (${config.max_new_tokens}) or max_prompt_tokens (${config.max_prompt_tokens}), ` +
        `or rollout_batch_size x group_size (${config.rollout_batch_size} x ${config.group_size}) for generation` +
        (backend === 'wasm' ? ', or use the tensorflow backend, which has no 4 GiB heap' : '') +
        (config.memory_budget_mb > 0 ? ', or raise memory_budget_mb' : ''),
    );
  }
  return { ...plan, budgetWhy: budget.why };
}

/** One line for the log and the CLI: the budget, the peak and the chunks. */
export function describePlan(plan: MemoryPlan & { budgetWhy: string }): string {
  const p = plan.phases;
  return (
    `peak ~${mib(plan.peakBytes)} of ${mib(plan.budgetBytes)} (${plan.budgetWhy}): generate ${mib(p.generate)}, score ${mib(p.score)}` +
    (p.reference > 0 ? `, reference ${mib(p.reference)}` : '') +
    `, update ${mib(p.update)}; ${plan.scoreRows} rows scored at once, micro-batches of ${plan.microRows} rows, output head in slices of ${plan.vocabChunk} tokens` +
    (plan.hostMoments ? ", Adam's moments in host memory" : '') +
    (plan.recompute ? ', layers recomputed in the backward pass (gradient_checkpointing)' : '')
  );
}
