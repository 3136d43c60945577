import type { CausalLM } from '../model/causal-lm';
import { completionText, generate } from '../model/generate';
import { DEFAULT_SAMPLING, type SamplingOptions } from '../model/sampling';
import type { RewardRunner } from '../rewards/runner';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { preparePrompt, type PromptRow } from './dataset';

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
  const sums: Record<string, { sum: number; n: number; failed: number }> = {};
  let total = 0;
  let totalN = 0;
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
    for (const f of scores.functions) {
      const s = (sums[f.name] ??= { sum: 0, n: 0, failed: 0 });
      for (const v of f.values) {
        if (Number.isFinite(v)) (s.sum += v), s.n++;
        else s.failed++;
      }
    }
    for (const v of scores.total) if (Number.isFinite(v)) (total += v), totalN++;
  }
  return {
    prompts: rows.length,
    mean: Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, s.n ? s.sum / s.n : NaN])),
    total: totalN ? total / totalN : NaN,
    failures: Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, s.failed])),
    seconds: (performance.now() - started) / 1000,
  };
}
