// Messages between the reward runner (trainer) and a reward process (./worker.ts).
// Both ends are compiled from this repository, so each message is declared once here.

import type { RewardSample } from '../../types/reward';
import type { PermissionCheck } from './permissions';

/** A compiled reward file as a worker loads it. */
export interface BundleRef {
  /** Workspace-relative path of the reward file, with forward slashes. */
  file: string;
  /** The bundle on disk (CommonJS with an inline source map). */
  path: string;
}

/** What a reward process is started with (its one command-line argument, as JSON). */
export interface WorkerData {
  /** One reward file per process: no file sees another's globals or prototypes. */
  bundle: BundleRef;
  /** The permissions the process must find itself under before it loads user code. */
  permissions: PermissionCheck;
}

export interface ExportedReward {
  name: string;
  batched: boolean;
  /** Where the function is defined, `abs/path.ts:line:column`, when the source map tells. */
  definedAt?: string;
}

export type LoadedFile =
  | { file: string; ok: true; rewards: ExportedReward[] }
  | { file: string; ok: false; message: string; stack?: string };

export interface LoadedMessage {
  type: 'loaded';
  file: LoadedFile;
  /** Why the process did not load the file at all: it does not run under the permissions asked for. */
  refused?: string;
}

export interface CallRequest {
  type: 'call';
  id: number;
  file: string;
  fn: string;
  iteration: number;
  /** One sample for a per-sample reward, all of them for a batched one. */
  samples: RewardSample[];
}

/** What a call's output was wrong about, or what it threw. */
export interface CallProblem {
  kind: 'threw' | 'invalid';
  message: string;
  stack?: string;
  /** Indices into the call's `samples`. */
  samples: number[];
}

export interface CallResult {
  type: 'result';
  id: number;
  /** One per sample of the request; NaN where the reward failed or returned null. */
  values: number[];
  problems: CallProblem[];
  logs: string[];
  metrics: [string, number][];
}

export type WorkerMessage = LoadedMessage | CallResult;

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'loaded' || type === 'result';
}
