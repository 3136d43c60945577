import type { CausalLM } from '../model/causal-lm';
import { completionText, generate } from '../model/generate';
import { DEFAULT_SAMPLING, type SamplingOptions } from '../model/sampling';
import type { RewardRunner } from '../rewards/runner';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { preparePrompt, type PromptRow } from './dataset';
import { EvaluationTally } from './evaluation-tally';

export interface EvaluationOptions {
  sampling: SamplingOptions; // temperature 0 for greedy
  maxNewTokens: number;
  useChatTemplate: boolean;
  stopStrings: string[];
  seed: number;
  batchSize: number; // prompts per generate call
  iteration: number; // what reward functions see as ctx.iteration
}

export interface Evaluation {
  prompts: number;
  mean: Record<string, number>; // per reward function, over samples it scored
  total: number; // weighted total's mean
  failures: Record<string, number>; // per function, samples it could not score
  seconds: number;
}

/** One completion per prompt, scored by the reward functions: the held-out check of a model. */
export async function evaluate(model: CausalLM, tokenizer: Tokenizer, rows: PromptRow[], rewards: RewardRunner, o: EvaluationOptions): Promise<Evaluation> {
  const started = performance.now();
  const eosTokenIds = [...new Set([...tokenizer.eosTokenIds, ...model.config.eosTokenIds])];
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  const tally = new EvaluationTally();
  for (let start = 0; start < rows.length; start += o.batchSize) {
    const batch = rows.slice(start, start + o.batchSize);
    const prompts = batch.map((r) => preparePrompt(r, tokenizer, o.useChatTemplate));
    const out = await generate(
      model,
      prompts.map((p) => p.ids),
      { ...DEFAULT_SAMPLING, ...o.sampling, maxNewTokens: o.maxNewTokens, groupSize: 1, eosTokenIds, padTokenId: tokenizer.padTokenId ?? eosTokenIds[0] ?? 0, seed: o.seed + start, stopStrings: o.stopStrings, decode },
    );
    const scores = await rewards.score(
      batch.map((r, i) => ({ prompt: prompts[i].text, completion: completionText(out[i][0], decode), completionIds: out[i][0].ids, row: r.row })),
      o.iteration,
    );
    tally.add(scores);
  }
  return { prompts: rows.length, ...tally.summary(), seconds: (performance.now() - started) / 1000 };
}
