// Messages between the extension host and the trainer child process, both directions. Each
// is declared once here as a shape; its type and its receipt check both come from it.
// Nothing here imports `vscode` or TF.js: the host, the child and the tests all import it.
//
// Handshake: the child posts `ready` as soon as it listens; the host holds its commands until
// then (TrainerProcess in src/trainer-process/client.ts). The host sends one `start`; the child
// relays every TrainerEvent of the run, answers a command it cannot take with
// `command-rejected`, and ends with `fatal` when the run cannot go on. Messages travel as JSON
// with non-finite numbers marked (./wire-numbers), so a NaN reward arrives as NaN.
import type { TrainerEvent } from '../trainer/events';
import { adapterInfo, liveSettings, rewardFailure } from './dashboard-messages';
import { describeValue, dict, flag, integer, list, object, oneOf, optional, tagged, text, type Infer, type Shape } from './shape';
import { fromWire } from './wire-numbers';

const expected = (path: string, what: string, got: unknown) => `${path || 'message'}: expected ${what}, got ${describeValue(got)}`;

/** Any number, NaN and the infinities included: a NaN reward is information, not an error. */
const measured: Shape<number> = { check: (v, p) => (typeof v === 'number' ? undefined : expected(p, 'a number', v)) };

const path: Shape<string> = { check: (v, p) => (typeof v === 'string' && v !== '' ? undefined : expected(p, 'a non-empty path', v)) };

/** A grpo.config.json body; parseTrainingConfig in the child checks its fields. */
const configObject: Shape<Record<string, unknown>> = {
  check: (v, p) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : expected(p, 'an object (grpo.config.json settings)', v)),
};

/** A value of a metrics.jsonl line: a number, a name, or a map such as reward_versions. */
const metricValue: Shape<number | string | Record<string, string>> = {
  check: (v, p) => {
    if (typeof v === 'number' || typeof v === 'string') return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return expected(p, 'a number, a string or an object of strings', v);
    return dict(text).check(v, p);
  },
};

/** Host -> trainer process. Commands other than `start` act at the next iteration boundary. */
export const hostCommand = tagged({
  /**
   * Begin the one run of this process. Settings come from `configFile`, or `config` (a
   * grpo.config.json body whose relative paths are taken from `workspaceRoot`), or, with
   * neither, from `resumeRunDir`'s own config.json snapshot. Reward imports resolve from
   * `workspaceRoot`.
   */
  start: object(
    { configFile: optional(path), config: optional(configObject), workspaceRoot: path, resumeRunDir: optional(path) },
    (s) => {
      if (s.configFile !== undefined && s.config !== undefined) return 'give configFile or config, not both';
      if (s.configFile === undefined && s.config === undefined && s.resumeRunDir === undefined) {
        return 'give configFile or config (or resumeRunDir alone to continue a run with its own settings)';
      }
      return undefined;
    },
  ),
  pause: object({}),
  resume: object({}),
  /** While paused: run exactly one iteration, then pause again. */
  step: object({}),
  /** Finish the current iteration, save a checkpoint, end the process. */
  stop: object({}),
  /** Changes for the next iteration; omitted fields keep their value. */
  'set-live': liveSettings,
  /** Save a checkpoint of the last completed iteration, at the next iteration boundary. */
  'save-checkpoint': object({}),
});
export type HostCommand = Infer<typeof hostCommand>;
export type StartCommand = Extract<HostCommand, { type: 'start' }>;
export type LiveSettingsCommand = Extract<HostCommand, { type: 'set-live' }>;

/** The trainer's own events, as src/trainer/events.ts declares them. */
const trainerEventShapes = {
  'run-started': object({ runDir: text, backend: text, model: text, parameters: integer, resumedFrom: optional(integer), adapter: optional(adapterInfo) }),
  'iteration-started': object({ iteration: integer, learningRate: measured }),
  'generation-progress': object({ iteration: integer, step: integer, maxNewTokens: integer }),
  'rollout-ready': object({ iteration: integer, completions: integer, generateSeconds: measured }),
  'rewards-scored': object({ iteration: integer, mean: measured, std: measured, failed: list(rewardFailure) }),
  metrics: object({ iteration: integer, metrics: dict(metricValue) }),
  'checkpoint-saved': object({ iteration: integer, path: text }),
  evaluation: object({ iteration: integer, prompts: integer, reward: measured, rewards: dict(measured), failures: dict(integer), seconds: measured }),
  'reward-reloaded': object({ file: text, version: text }),
  'reward-reload-failed': object({ file: text, message: text, line: optional(integer), column: optional(integer), rewardFile: optional(text) }),
  paused: object({ iteration: integer }),
  resumed: object({ iteration: integer }),
  warning: object({ message: text }),
  'no-learning-signal': object({ fromIteration: integer, iteration: integer, reason: oneOf('rewards-failed', 'zero-variance'), message: text }),
  error: object({ message: text }),
  finished: object({ iteration: integer, reason: oneOf('completed', 'stopped', 'failed'), runDir: text }),
} satisfies Record<TrainerEvent['type'], Shape<unknown>>;

/** Trainer process -> host: every TrainerEvent, plus the process's own messages. */
export const trainerNotification = tagged({
  ...trainerEventShapes,
  /** The child listens for commands; `node` is the version running it (Electron's or the user's). */
  ready: object({ pid: integer, node: text }),
  /** A line for the host's log (output channel): what the process did and why. */
  log: object({ line: text }),
  /** A command that was malformed or cannot be applied now; nothing changed. */
  'command-rejected': object({ command: text, reason: text }),
  /**
   * The run cannot go on; the process exits non-zero next. `userError`: the user can fix it
   * (bad settings, missing file) and `message` says how; otherwise `stack` is for a bug report.
   * `logFile`: the run's log.txt when the run folder exists. `rewardProblem`: where a reward
   * file that kept the run from starting is wrong (workspace-relative file, 1-based, 0: unknown).
   */
  fatal: object({
    message: text,
    stack: optional(text),
    logFile: optional(text),
    userError: flag,
    rewardProblem: optional(object({ file: text, line: integer, column: integer, message: text })),
  }),
});
export type TrainerNotification = Infer<typeof trainerNotification>;
export type FatalNotification = Extract<TrainerNotification, { type: 'fatal' }>;

// Checked both ways at compile time: this annotation fails if a shape above accepts what
// TrainerEvent does not, and isTrainerEvent's predicate fails if TrainerEvent has a variant or
// field the shapes lack. A change to src/trainer/events.ts must be mirrored here.
const trainerEvent: Shape<TrainerEvent> = tagged(trainerEventShapes);

/** A trainer event as src/trainer/events.ts has it, e.g. for printTrainerEvent. */
export function isTrainerEvent(n: TrainerNotification): n is TrainerEvent {
  return trainerEvent.check(n, '') === undefined;
}

export type Received<T> = { ok: true; message: T } | { ok: false; reason: string };

function fits<T>(shape: Shape<T>, value: unknown): value is T {
  return shape.check(value, '') === undefined;
}

function receive<T>(shape: Shape<T>, raw: unknown): Received<T> {
  const message = fromWire(raw);
  return fits(shape, message) ? { ok: true, message } : { ok: false, reason: String(shape.check(message, '')) };
}

/** A command as the child receives it from the IPC channel: checked, or why not. */
export function receiveHostCommand(raw: unknown): Received<HostCommand> {
  return receive(hostCommand, raw);
}

/** A notification as the host receives it from the IPC channel: checked, or why not. */
export function receiveTrainerNotification(raw: unknown): Received<TrainerNotification> {
  return receive(trainerNotification, raw);
}

/** The `type` of a message that may be malformed, for naming it in a rejection. */
export function messageType(raw: unknown): string {
  if (typeof raw === 'object' && raw !== null && 'type' in raw && typeof raw.type === 'string') return raw.type;
  return `(${describeValue(raw)})`;
}
