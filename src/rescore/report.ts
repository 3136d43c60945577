// What `grpo rescore` reports: the last rollout scored again with the reward files as they are
// now, next to what the run recorded. Declared once as a shape: the CLI writes it with --json,
// and the extension checks what it receives against the same declaration.
import { dict, finite, flag, integer, list, nullable, object, oneOf, optional, text, type Infer } from '../protocol/shape';

/** Reward values and advantages; null where a value is not finite (every reward function failed). */
const value = nullable(finite());

const rescoredSample = object({
  group: integer,
  member: integer,
  row: integer, // index into the run's dataset
  completion: text, // model output: untrusted, render as text only
  oldReward: value,
  newReward: value,
  oldRewards: dict(value), // by reward function name, as recorded
  newRewards: dict(value), // by reward function name, now
  oldAdvantage: value,
  newAdvantage: value,
});
export type RescoredSample = Infer<typeof rescoredSample>;

const rescoredGroup = object({
  group: integer,
  row: integer,
  prompt: text, // as the model saw it: untrusted, render as text only
  oldMean: value,
  newMean: value,
  oldStd: finite({ min: 0 }),
  newStd: finite({ min: 0 }),
  /** The group gives no learning signal: its rewards do not vary (TRL's frac_reward_zero_std). */
  oldZeroStd: flag,
  newZeroStd: flag,
});
export type RescoredGroup = Infer<typeof rescoredGroup>;

/** As src/rewards/scores.ts RewardCallError, with the function and file it came from. */
const rescoreError = object({
  fn: text,
  file: text,
  kind: oneOf('threw', 'invalid', 'timeout', 'crashed', 'skipped'),
  message: text,
  stack: optional(text),
  samples: list(integer), // indices into `samples`
});

export const rescoreReport = object({
  runDir: text,
  iteration: integer,
  rolloutsFile: text,
  groupSize: integer,
  scaleRewards: oneOf('group', 'batch', 'none'),
  /** The reward functions now, each with the version (content hash) of its file that scored. */
  rewards: list(object({ name: text, file: text, version: text, weight: finite() })),
  samples: list(rescoredSample), // in group, then member order
  groups: list(rescoredGroup),
  summary: object({
    oldMeanReward: value,
    newMeanReward: value,
    oldZeroStdShare: finite({ min: 0 }),
    newZeroStdShare: finite({ min: 0 }),
    /** Samples whose advantage changed from positive to negative or back (0 is neither). */
    signFlips: integer,
    /** Sample-function pairs that failed now, as metrics.jsonl's reward_failures counts them. */
    rewardFailures: integer,
  }),
  errors: list(rescoreError),
});
export type RescoreReport = Infer<typeof rescoreReport>;

/** Why `value` is not a rescore report, or undefined when it is one. */
export function rescoreReportProblem(value: unknown): string | undefined {
  return rescoreReport.check(value, '');
}
