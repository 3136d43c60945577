import type { CausalLM } from '../model/causal-lm';
import { completionText, generate, type Completion, type FinishReason, type GenerateOptions } from '../model/generate';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { TrainingConfig } from './config';
import { preparePrompt, type PromptRow } from './dataset';
import type { KlReference } from './reference';
import type { PeakMemory } from '../engine/memory-probe';
import { inPhase } from '../engine/out-of-memory';
import type { MemoryPlan } from './memory-plan';
import { packSequences, scoreCompletions, type SequenceBatch } from './sequence-batch';

/** One sampled completion of one prompt. */
export interface RolloutSample {
  rowIndex: number; // dataset row
  group: number; // which prompt of this iteration
  member: number; // which of the group's G samples
  prompt: string; // as the model saw it (after the chat template)
  completion: string;
  completionIds: number[];
  finishReason: FinishReason;
}

/** A rollout: the samples, packed for scoring, with the log-probabilities they were drawn under. */
export interface Rollout {
  samples: RolloutSample[]; // group-major: sample g*G + i is member i of group g
  batch: SequenceBatch;
  promptLengths: number[]; // [prompts] tokens of each prompt as the model saw it
  oldLogprobs: Float32Array; // [rows, C] policy at rollout time, tempered as sampled
  /** The update's one step fills oldLogprobs from its own forward pass (old-logprobs.ts); NaN until then. */
  oldFromUpdate: boolean;
  refLogprobs: Float32Array | undefined; // [rows, C]; undefined without a KL term
  generateSeconds: number;
  scoreSeconds: number;
  peakBytes: RolloutPeaks;
}

/** The most tensor memory each phase of the rollout held (0 where not measured or not run). */
export interface RolloutPeaks {
  generate: number;
  score: number;
  reference: number;
}

export interface RolloutOptions {
  seed: number; // sampling seed for this iteration
  temperature: number;
  plan: Pick<MemoryPlan, 'scoreRows' | 'vocabChunk'>; // chunks of the scoring passes
  /** Leave the scoring pass under the policy to the update (old-logprobs.ts). */
  oldFromUpdate?: boolean;
  memory?: PeakMemory; // measures each phase's peak tensor memory
  onProgress?: (generated: number, maxNewTokens: number) => void;
  /** Samples the completions instead of generate() (llama.cpp, rollout-engine.ts). */
  generate?: (prompts: number[][], opts: GenerateOptions) => Promise<Completion[][]>;
}

/** The config's sampling settings as generate() takes them; `temperature` as applied this iteration. */
export function samplingSettings(config: TrainingConfig, temperature: number) {
  return {
    temperature,
    topK: config.top_k,
    topP: config.top_p,
    minP: config.min_p,
    repetitionPenalty: config.repetition_penalty,
    maxNewTokens: config.max_new_tokens,
    groupSize: config.group_size,
  };
}

/** What to change when a rollout runs out of memory in spite of its plan. */
export const MEMORY_FIX = 'Lower memory_budget_mb, so that smaller chunks are planned, or lower max_new_tokens or rollout_batch_size x group_size';
const FIX = MEMORY_FIX;

/** Samples G completions for each row and scores them under the policy and the reference. */
export async function runRollout(
  policy: CausalLM,
  tokenizer: Tokenizer,
  rows: PromptRow[],
  config: TrainingConfig,
  reference: KlReference | undefined,
  opts: RolloutOptions,
): Promise<Rollout> {
  const g = config.group_size;
  const prompts = rows.map((r) => preparePrompt(r, tokenizer, config.chat_template));
  const promptIds = prompts.map((p) => p.ids.slice(-config.max_prompt_tokens));
  const eosTokenIds = [...new Set([...tokenizer.eosTokenIds, ...policy.config.eosTokenIds])];
  const padTokenId = tokenizer.padTokenId ?? eosTokenIds[0] ?? 0;
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });

  const started = performance.now();
  opts.memory?.reset();
  const sizes = () =>
    `${rows.length} prompts x ${g} completions of up to ${config.max_new_tokens} tokens, prompts of up to ${Math.max(...promptIds.map((p) => p.length))} tokens, ` +
    `${opts.plan.scoreRows} rows scored at once, output head in slices of ${opts.plan.vocabChunk}`;
  const groups = await inPhase('generating completions', sizes, FIX, () => (opts.generate ?? ((p, o) => generate(policy, p, o)))(promptIds, {
    ...samplingSettings(config, opts.temperature),
    eosTokenIds,
    padTokenId,
    seed: opts.seed,
    stopStrings: config.stop,
    decode,
    onStep: (p) => opts.onProgress?.(p.step, p.maxNewTokens),
  }));
  const generateSeconds = (performance.now() - started) / 1000;
  const peakBytes: RolloutPeaks = { generate: opts.memory?.peakBytes ?? 0, score: 0, reference: 0 };

  const samples: RolloutSample[] = groups.flatMap((group, gi) =>
    group.map((c, member) => ({
      rowIndex: rows[gi].index,
      group: gi,
      member,
      prompt: prompts[gi].text,
      completion: completionText(c, decode),
      completionIds: c.ids,
      finishReason: c.finishReason,
    })),
  );

  const scoreStart = performance.now();
  const batch = packSequences(
    samples.map((s) => promptIds[s.group]),
    samples.map((s) => s.completionIds),
    padTokenId,
  );
  const head = { vocabChunk: opts.plan.vocabChunk };
  opts.memory?.reset();
  const oldFromUpdate = opts.oldFromUpdate === true;
  const oldLogprobs = oldFromUpdate
    ? new Float32Array(batch.rows * batch.completionLength).fill(NaN)
    : await inPhase('scoring the rollout under the policy', sizes, FIX, () => scoreCompletions(policy, batch, opts.temperature, opts.plan.scoreRows, head));
  peakBytes.score = opts.memory?.peakBytes ?? 0;
  opts.memory?.reset();
  const refLogprobs = reference
    ? await inPhase('scoring the rollout under the reference model', sizes, FIX, () => reference.completionLogprobs(batch, opts.temperature, opts.plan, policy))
    : undefined;
  peakBytes.reference = reference ? (opts.memory?.peakBytes ?? 0) : 0;
  return {
    samples,
    batch,
    promptLengths: promptIds.map((p) => p.length),
    oldLogprobs,
    oldFromUpdate,
    refLogprobs,
    generateSeconds,
    peakBytes,
    scoreSeconds: (performance.now() - scoreStart) / 1000,
  };
}
