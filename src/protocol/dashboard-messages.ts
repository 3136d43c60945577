// Messages between the extension host and the dashboard webview, both directions. Each is
// declared once here as a shape; its type and its receipt check both come from it. Nothing
// here imports `vscode` or the DOM: the host, the webview and the tests all import it.
//
// Handshake: the host does not post into a webview before that webview has posted `ready`
// (a message posted earlier is lost while the page loads). The host holds its messages in a
// MessageQueue (./message-queue), answers `ready` with a `snapshot` built from the run folder,
// then flushes the queue. The webview posts `ready` again whenever it is rebuilt (a reload,
// a restored panel), so the host resets its queue when the panel's webview is recreated.
// Every message is idempotent in the webview (metrics are keyed by iteration), so a queued
// message that the snapshot already covers does no harm.
import {
  dict,
  finite,
  flag,
  integer,
  list,
  nullable,
  object,
  oneOf,
  optional,
  tagged,
  text,
  type Infer,
} from './shape';

/**
 * One line of metrics.jsonl as sent: names as in src/trainer/iteration-metrics.ts, NaN
 * values arrive as null (JSON), `reward_versions` maps reward file to content hash.
 */
export const metricsLine = object(
  { iteration: integer },
  (m, p) => {
    for (const [k, v] of Object.entries(m)) {
      if (v === null || typeof v === 'number' || typeof v === 'string') continue;
      const problem = dict(text).check(v, p ? `${p}.${k}` : k);
      if (problem) return problem;
    }
    return undefined;
  },
);
export type MetricsLine = Infer<typeof metricsLine> & Record<string, number | string | null | Record<string, string>>;

const logprob = nullable(finite());

/** The fields of one line of rollouts/iter-N.jsonl (src/trainer/rollout-records.ts). */
const rolloutRecordFields = {
  group: integer,
  member: integer,
  row: integer,
  prompt: text,
  completion: text,
  completion_ids: list(integer),
  finish_reason: text,
  reward: nullable(finite()),
  rewards: dict(nullable(finite())),
  advantage: nullable(finite()),
  logprobs: list(logprob),
  ref_logprobs: nullable(list(logprob)),
};

/** Per-token lists must have one entry per completion id. */
function perTokenProblem(c: { completion_ids: number[]; logprobs: unknown[]; ref_logprobs: unknown[] | null }, p: string): string | undefined {
  const where = p ? `${p}.` : '';
  if (c.logprobs.length !== c.completion_ids.length) return `${where}logprobs: ${c.logprobs.length} entries for ${c.completion_ids.length} completion_ids`;
  if (c.ref_logprobs && c.ref_logprobs.length !== c.completion_ids.length) return `${where}ref_logprobs: ${c.ref_logprobs.length} entries for ${c.completion_ids.length} completion_ids`;
  return undefined;
}

/** One line of rollouts/iter-N.jsonl, as the trainer wrote it. */
export const rolloutRecord = object(rolloutRecordFields, perTokenProblem);
export type RolloutRecord = Infer<typeof rolloutRecord>;

/**
 * One completion of a rollout: a rollouts line plus `tokens`, the host's decoding of each id in
 * `completion_ids` on its own, so the webview can colour tokens without a tokenizer.
 */
export const rolloutCompletion = object({ ...rolloutRecordFields, tokens: list(text) }, (c, p) => {
  if (c.tokens.length !== c.completion_ids.length) return `${p ? `${p}.` : ''}tokens: ${c.tokens.length} entries for ${c.completion_ids.length} completion_ids`;
  return perTokenProblem(c, p);
});
export type RolloutCompletion = Infer<typeof rolloutCompletion>;

/** As src/rewards/scores.ts RewardCallError: why a reward function has no value for some samples. */
export const rewardCallError = object({
  kind: oneOf('threw', 'invalid', 'timeout', 'crashed', 'skipped'),
  message: text,
  stack: optional(text),
  samples: list(integer),
});

/** The `failed` list of a `rewards-scored` trainer event, or of reward-errors/iter-N.json. */
export const rewardFailure = object({ fn: text, errors: list(rewardCallError) });
export type RewardFailure = Infer<typeof rewardFailure>;

export const trainerStatus = object({
  state: oneOf('starting', 'running', 'paused', 'stopping', 'finished', 'failed'),
  iteration: integer, // iterations completed
  message: optional(text),
});
export type TrainerStatus = Infer<typeof trainerStatus>;

/** The values the next iteration will use, shown in the controls. */
export const currentSettings = object({
  learningRate: finite({ above: 0 }),
  klCoef: finite({ min: 0 }),
  temperature: finite({ above: 0 }),
  rewardWeights: dict(finite()), // by reward function name
});
export type CurrentSettings = Infer<typeof currentSettings>;

/**
 * What a LoRA run trains (src/trainer/adapter-info.ts AdapterInfo): the run folder's
 * adapter.json, or the `adapter` of the trainer's run-started event.
 */
export const adapterInfo = object({
  r: integer,
  lora_alpha: finite({ above: 0 }),
  target_modules: list(text), // short names: q_proj, v_proj, ...
  adapted_layers: integer, // linear layers of the model that carry an adapter
  modules_to_save: list(text),
  use_rslora: flag,
  trainable_parameters: integer,
  base_parameters: integer,
});
export type AdapterInfoMessage = Infer<typeof adapterInfo>;

export const runInfo = object({
  name: text, // the run folder's name
  runDir: text, // its absolute path: the page keeps it in its saved state, to be restored after a reload
  readOnly: flag, // a past run: no controls
  maxNewTokens: integer, // from the run's config, for the runaway-length alert
  groupSize: integer,
  settings: currentSettings,
  adapter: optional(adapterInfo), // a LoRA run's; absent for full fine-tuning
});
export type RunInfo = Infer<typeof runInfo>;

/**
 * One line of evaluations.jsonl (src/trainer/trainer.ts): mean held-out reward in total and
 * per reward function after `iteration` iterations (0: before training). NaN arrives as null.
 */
export const evaluationLine = object({
  iteration: integer,
  prompts: integer,
  reward: nullable(finite()),
  rewards: dict(nullable(finite())),
});
export type EvaluationLine = Infer<typeof evaluationLine>;

const iterationRollouts = object({ iteration: integer, completions: list(rolloutCompletion) });
export type IterationRollouts = Infer<typeof iterationRollouts>;

const iterationFailures = object({ iteration: integer, failed: list(rewardFailure) });
export type IterationFailures = Infer<typeof iterationFailures>;

/** Host -> webview. */
export const hostMessage = tagged({
  /** Everything the dashboard shows, from the run folder: sent in answer to every `ready`. */
  snapshot: object({
    run: runInfo,
    status: trainerStatus,
    metrics: list(metricsLine),
    rolloutIterations: list(integer), // iterations whose rollouts can be requested
    rollouts: nullable(iterationRollouts), // the latest iteration's
    rewardFailures: list(iterationFailures),
    evaluations: list(evaluationLine),
  }),
  /** A finished iteration's metrics line (trainer event `metrics`). */
  metrics: object({ metrics: metricsLine }),
  /** A held-out evaluation finished (trainer event `evaluation`). */
  evaluation: object({ evaluation: evaluationLine }),
  /** An iteration's rollouts: after each iteration, and in answer to `request-rollouts`. */
  rollouts: iterationRollouts,
  /** Reward functions that failed on some samples (trainer event `rewards-scored`). */
  'reward-failures': iterationFailures,
  status: object({ status: trainerStatus }),
  /** The settings after a `live-settings` change took effect. */
  settings: object({ settings: currentSettings }),
});
export type HostMessage = Infer<typeof hostMessage>;

/** Changes for the next iteration; omitted fields keep their value (as the trainer's LiveSettings). */
export const liveSettings = object({
  learningRate: optional(finite({ above: 0 })),
  klCoef: optional(finite({ min: 0 })),
  temperature: optional(finite({ above: 0 })),
  rewardWeights: optional(dict(finite())),
});
export type LiveSettingsChange = Infer<typeof liveSettings>;

/** Webview -> host. */
export const webviewMessage = tagged({
  /** The page has loaded and listens: the host answers with a snapshot, then flushes its queue. */
  ready: object({}),
  /** Trainer commands; `step` runs exactly one iteration while paused. */
  control: object({ action: oneOf('pause', 'resume', 'step', 'stop') }),
  'live-settings': object({ settings: liveSettings }),
  'request-rollouts': object({ iteration: integer }),
  /** Open one completion as a read-only document with per-token hovers. */
  'open-completion': object({ iteration: integer, group: integer, member: integer }),
});
export type WebviewMessage = Infer<typeof webviewMessage>;

/** Why a received value is not a host message, or undefined when it is one. */
export function hostMessageProblem(value: unknown): string | undefined {
  return hostMessage.check(value, '');
}

export function isHostMessage(value: unknown): value is HostMessage {
  return hostMessageProblem(value) === undefined;
}

/** Why a received value is not a webview message, or undefined when it is one. */
export function webviewMessageProblem(value: unknown): string | undefined {
  return webviewMessage.check(value, '');
}

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  return webviewMessageProblem(value) === undefined;
}

/** A metric value as a number; null (a NaN sent as JSON) and absent names give NaN. */
export function metricValue(line: MetricsLine, name: string): number {
  const v = line[name];
  return typeof v === 'number' ? v : NaN;
}
