/**
 * The reward API of GRPO Studio: the types a reward file is written against.
 *
 *   import type { RewardSample } from 'grpo-studio/reward';
 *   export function exactAnswer(sample: RewardSample<{ answer: string }>): number { ... }
 *
 * Every exported function of a reward file is a per-sample reward (unless the reward spec
 * lists `functions`); an export made with `batched(...)` is a batched reward. Either may be
 * async. A function's value is a finite number, or `null` for "does not apply to this sample".
 */

/** One completion to score. `Row` types the dataset row's other columns, e.g. `{ answer: string }`. */
export interface RewardSample<Row extends object = Record<string, unknown>> {
  /** The prompt as the model saw it (chat prompts rendered with the model's chat template). */
  readonly prompt: string;
  /** The generated text, without the prompt. */
  readonly completion: string;
  /** The completion's token ids, as sampled. */
  readonly completionIds: readonly number[];
  /** The dataset row's other columns (everything but `prompt`). */
  readonly row: Readonly<Row>;
}

/** Given to every call, alongside the sample (or samples). */
export interface RewardContext {
  /** The training iteration being scored (0-based). */
  readonly iteration: number;
  /** Records a line in this iteration's reward log. `console.log` inside a reward does the same. */
  log(line: string): void;
  /** Records a value of a metric, reported per iteration as `<function>/<name>`. */
  metric(name: string, value: number): void;
}

/** A value, or `null` when the reward does not apply to the sample (it then counts like a failure: NaN, but no error). */
export type RewardValue = number | null;

/** The per-sample form: one sample in, one value out. */
export type SampleReward<Row extends object = Record<string, unknown>> = (
  sample: RewardSample<Row>,
  ctx: RewardContext,
) => RewardValue | Promise<RewardValue>;

/** The batched form: every sample of the iteration in, one value per sample out, in order. */
export interface BatchedReward<Row extends object = Record<string, unknown>> {
  readonly batched: true;
  score(samples: readonly RewardSample<Row>[], ctx: RewardContext): readonly RewardValue[] | Promise<readonly RewardValue[]>;
}

/** Marks `score` as a batched reward: `export const lengthPenalty = batched((samples) => samples.map(...))`. */
export declare function batched<Row extends object = Record<string, unknown>>(
  score: BatchedReward<Row>['score'],
): BatchedReward<Row>;
