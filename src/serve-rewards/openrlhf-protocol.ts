// OpenRLHF's remote reward protocol, for `--remote_rm_url http://HOST:PORT/get_reward` (newer
// versions: `--reward.remote_url`). OpenRLHF posts {"query": [...], "prompts": [...], "labels": [...]}
// where each query is the prompt and completion decoded together (special tokens included),
// and reads "rewards", "scores" (its dynamic filtering; the same numbers here) and "extra_logs"
// (each key a list with one number per query, logged with the rollout).
import type { ScoreInput } from '../rewards/runner';
import type { RewardScores } from '../rewards/scores';
import { requireArray, requireObject, requireSameLength, requireString } from './body-fields';
import { wireErrors, type WireError } from './wire-scores';

export interface OpenRlhfRequest {
  /** How many queries came; the answer has one entry per query. */
  count: number;
  /** The queries whose completion could be cut from them, with their position in the request. */
  scorable: { index: number; sample: ScoreInput }[];
  /** Positions of queries that do not start with their prompt. */
  withoutPrompt: number[];
}

export interface OpenRlhfAnswer {
  rewards: number[];
  scores: number[];
  extra_logs: { reward_failures: number[] };
  /** Not read by OpenRLHF; for whoever debugs the server with curl. */
  errors: WireError[];
}

/** `labelField`: the row column each label becomes (`answer`, which the example rewards read). */
export function parseOpenRlhfRequest(body: unknown, labelField: string): OpenRlhfRequest {
  // Other keys are left alone: forks of OpenRLHF add their own, and none changes the meaning of these.
  const o = requireObject(body, 'the request body');
  const queries = requireArray(o.query, 'query', 'OpenRLHF sends {"query": [prompt + completion], "prompts": [prompt], "labels": [label]}');
  const prompts = requireArray(o.prompts, 'prompts', 'send the prompt of each query, so the completion can be cut from it');
  requireSameLength(prompts, 'prompts', queries, 'query');
  const labels = o.labels === undefined || o.labels === null ? undefined : requireArray(o.labels, 'labels', 'send one label per query, or none');
  if (labels !== undefined) requireSameLength(labels, 'labels', queries, 'query');
  const request: OpenRlhfRequest = { count: queries.length, scorable: [], withoutPrompt: [] };
  queries.forEach((raw, index) => {
    const query = requireString(raw, `query[${index}]`);
    const prompt = requireString(prompts[index], `prompts[${index}]`);
    // Scoring the whole query instead would hand the prompt to the rewards as part of the
    // completion: an answer match would find the prompt's numbers, a format check its text.
    // Plausible wrong rewards train silently; a 0 with its reason reported is seen.
    if (!query.startsWith(prompt)) {
      request.withoutPrompt.push(index);
      return;
    }
    const label = labels?.[index];
    const row = label === undefined || label === null ? {} : { [labelField]: label };
    request.scorable.push({ index, sample: { prompt, completion: query.slice(prompt.length), completionIds: [], row } });
  });
  return request;
}

/**
 * The answer to `request`, from `scores` of its scorable samples in order. OpenRLHF needs a
 * number for every query, so a query no function scored (all failed or returned null, or it
 * lacked its prompt) gets 0, as a failed function counts 0 next to the others in the total.
 */
export function openRlhfAnswer(request: OpenRlhfRequest, scores: RewardScores): OpenRlhfAnswer {
  const rewards = new Array<number>(request.count).fill(0);
  const failures = new Array<number>(request.count).fill(0);
  request.scorable.forEach((s, j) => {
    const total = scores.total[j];
    rewards[s.index] = Number.isNaN(total) ? 0 : total;
  });
  const errors = wireErrors(scores).map((e) => ({ ...e, samples: e.samples.map((j) => request.scorable[j].index) }));
  for (const e of errors) for (const i of e.samples) failures[i]++;
  if (request.withoutPrompt.length > 0) {
    for (const i of request.withoutPrompt) failures[i] = scores.functions.length;
    errors.push({
      function: null,
      file: null,
      kind: 'query_without_prompt',
      message:
        'the query does not start with its prompt, so its completion cannot be cut from it; it was not scored and gets 0. ' +
        'OpenRLHF decodes prompt and completion tokens together: a tokenizer whose decoding changes the prompt text, ' +
        'or a prompt truncated to fit max_len, does this',
      samples: request.withoutPrompt,
    });
  }
  // One fixed key: OpenRLHF stacks each key over the samples of a batch, so keys named after
  // functions would break it when a reload adds or removes one.
  return { rewards, scores: rewards, extra_logs: { reward_failures: failures }, errors };
}
