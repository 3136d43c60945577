import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/causal-lm';
import { completionText, generate, type FinishReason } from '../model/generate';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { TrainingConfig } from './config';
import { preparePrompt, type PromptRow } from './dataset';
import type { ReferenceModel } from './reference';
import { completionLogits, packSequences, type SequenceBatch } from './sequence-batch';
import { tokenEntropy } from './token-entropy';
import { tokenLogprobs } from '../model/token-logprobs';

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
  oldLogprobs: Float32Array; // [rows, C] policy at rollout time, tempered as sampled
  refLogprobs: Float32Array | undefined; // [rows, C]; undefined without a KL term
  entropy: Float32Array; // [rows, C] policy entropy at each completion position
  generateSeconds: number;
  scoreSeconds: number;
}

export interface RolloutOptions {
  seed: number; // sampling seed for this iteration
  temperature: number;
  onProgress?: (generated: number, maxNewTokens: number) => void;
}

/** Samples G completions for each row and scores them under the policy and the reference. */
export async function runRollout(
  policy: CausalLM,
  tokenizer: Tokenizer,
  rows: PromptRow[],
  config: TrainingConfig,
  reference: ReferenceModel | undefined,
  opts: RolloutOptions,
): Promise<Rollout> {
  const g = config.group_size;
  const prompts = rows.map((r) => preparePrompt(r, tokenizer, config.chat_template));
  const promptIds = prompts.map((p) => p.ids.slice(-config.max_prompt_tokens));
  const eosTokenIds = [...new Set([...tokenizer.eosTokenIds, ...policy.config.eosTokenIds])];
  const padTokenId = tokenizer.padTokenId ?? eosTokenIds[0] ?? 0;
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });

  const started = performance.now();
  const groups = await generate(policy, promptIds, {
    temperature: opts.temperature,
    topK: config.top_k,
    topP: config.top_p,
    minP: config.min_p,
    repetitionPenalty: config.repetition_penalty,
    maxNewTokens: config.max_new_tokens,
    groupSize: g,
    eosTokenIds,
    padTokenId,
    seed: opts.seed,
    stopStrings: config.stop,
    decode,
    onStep: (p) => opts.onProgress?.(p.step, p.maxNewTokens),
  });
  const generateSeconds = (performance.now() - started) / 1000;

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
  const { logp, entropy } = tf.tidy(() => {
    let logits = completionLogits(policy, batch);
    if (opts.temperature > 0 && opts.temperature !== 1) logits = tf.div(logits, opts.temperature);
    const targets = tf.tensor2d(batch.completionIds, [batch.rows, batch.completionLength], 'int32');
    return { logp: tokenLogprobs(logits, targets), entropy: tokenEntropy(logits) };
  });
  const oldLogprobs = (await logp.data()) as Float32Array;
  const entropyValues = (await entropy.data()) as Float32Array;
  tf.dispose([logp, entropy]);
  const refLogprobs = reference ? await reference.completionLogprobs(batch, opts.temperature) : undefined;
  return {
    samples,
    batch,
    oldLogprobs,
    refLogprobs,
    entropy: entropyValues,
    generateSeconds,
    scoreSeconds: (performance.now() - scoreStart) / 1000,
  };
}
