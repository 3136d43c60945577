// GRPO Studio's own scoring protocol, POST /score: the samples a reward function receives, in
// snake_case, and every function's raw values back, so a trainer elsewhere can weigh, log and
// debug them as `grpo train` does.
//
//   request  {"samples": [{"prompt", "completion", "completion_ids"?, "row"?}], "iteration"?: 0}
//   answer   {"functions": [{"name", "file", "version", "weight", "values": [number|null]}],
//             "total": [number|null], "errors": [WireError], "logs": [{"function", "line"}],
//             "metrics": {"<function>/<name>": [number]}}
import type { ScoreInput } from '../rewards/runner';
import type { RewardScores } from '../rewards/scores';
import { optionalCount, optionalIds, requireArray, requireObject, requireString, refuseUnknownKeys } from './body-fields';
import { wireErrors, wireValues, type WireError } from './wire-scores';

export interface ScoreRequest {
  samples: ScoreInput[];
  /** ctx.iteration of the reward calls. */
  iteration: number;
}

export interface ScoreAnswer {
  functions: { name: string; file: string; version: string; weight: number; values: (number | null)[] }[];
  /** Weighted sum over the functions that gave a value; null where none did (see weightedTotal). */
  total: (number | null)[];
  errors: WireError[];
  logs: { function: string; line: string }[];
  metrics: Record<string, number[]>;
}

const SAMPLE_FIELDS = ['prompt', 'completion', 'completion_ids', 'row'];

export function parseScoreRequest(body: unknown): ScoreRequest {
  const o = requireObject(body, 'the request body');
  refuseUnknownKeys(o, ['samples', 'iteration'], '');
  const list = requireArray(o.samples, 'samples', 'send {"samples": [{"prompt": "...", "completion": "..."}]}');
  const samples = list.map((raw, i): ScoreInput => {
    const at = `samples[${i}]`;
    const s = requireObject(raw, at);
    refuseUnknownKeys(s, SAMPLE_FIELDS, at);
    return {
      prompt: requireString(s.prompt, `${at}.prompt`),
      completion: requireString(s.completion, `${at}.completion`),
      completionIds: optionalIds(s.completion_ids, `${at}.completion_ids`),
      row: s.row === undefined ? {} : requireObject(s.row, `${at}.row`),
    };
  });
  return { samples, iteration: optionalCount(o.iteration, 'iteration', 0) };
}

export function scoreAnswer(scores: RewardScores): ScoreAnswer {
  return {
    functions: scores.functions.map((f) => ({ name: f.name, file: f.file, version: f.version, weight: f.weight, values: wireValues(f.values) })),
    total: wireValues(scores.total),
    errors: wireErrors(scores),
    logs: scores.logs.map((l) => ({ function: l.fn, line: l.line })),
    metrics: scores.metrics,
  };
}
