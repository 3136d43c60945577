import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../errors';
import {
  evaluationLine,
  metricsLine,
  rewardFailure,
  rolloutRecord,
  type EvaluationLine,
  type MetricsLine,
  type RewardFailure,
  type RolloutCompletion,
  type RolloutRecord,
} from '../protocol/dashboard-messages';
import { list, object } from '../protocol/shape';
import { parseTrainingConfig, type TrainingConfig } from '../trainer/config';
import { iterName } from '../trainer/run-dir';
import { readJsonLines, readOptionalJson } from './json-lines';

/** The text of one token id, decoded on its own with special tokens kept. */
export type DecodeToken = (id: number) => string;

const rewardErrorsFile = object({ failed: list(rewardFailure) });

/**
 * Reads a run folder (src/trainer/run-dir.ts) as the dashboard needs it. Every read goes to
 * disk: the trainer appends while the dashboard reads, and the folder is the source of truth.
 */
export class RunFolder {
  constructor(readonly path: string) {}

  get name(): string {
    return basename(this.path);
  }

  /** The config snapshot the run was started with, defaults filled in. */
  async config(): Promise<TrainingConfig> {
    const file = join(this.path, 'config.json');
    const json = await readOptionalJson(file);
    if (json === undefined) throw new UserError(`${file}: not found; ${this.path} is not a GRPO run folder (open the folder that holds config.json and metrics.jsonl)`);
    return parseTrainingConfig(json, file, { baseDir: this.path });
  }

  /** metrics.jsonl in iteration order; a line cut off by a kill is left out. */
  async metrics(): Promise<MetricsLine[]> {
    const file = join(this.path, 'metrics.jsonl');
    return (await readJsonLines(file)).map((v, i) => checked(metricsLine.check(v, `line ${i + 1}`), v as MetricsLine, file));
  }

  /** Iterations that have a rollouts file, ascending. */
  async rolloutIterations(): Promise<number[]> {
    return iterationsIn(join(this.path, 'rollouts'), '.jsonl');
  }

  /** rollouts/iter-N.jsonl of `iteration`, where the run writes that iteration's completions. */
  rolloutsFile(iteration: number): string {
    return join(this.path, 'rollouts', `${iterName(iteration)}.jsonl`);
  }

  /** One iteration's rollout records, checked; undefined when not written (or empty). */
  async records(iteration: number): Promise<RolloutRecord[] | undefined> {
    const file = this.rolloutsFile(iteration);
    const records = await readJsonLines(file);
    if (records.length === 0) return undefined;
    return records.map((r, i) => checked(rolloutRecord.check(r, `line ${i + 1}`), r as RolloutRecord, file));
  }

  /** One iteration's completions with each id decoded on its own; undefined when not written. */
  async rollouts(iteration: number, decodeToken: DecodeToken): Promise<RolloutCompletion[] | undefined> {
    const records = await this.records(iteration);
    return records?.map((r) => ({ ...r, tokens: r.completion_ids.map(decodeToken) }));
  }

  /** Reward functions that failed in each iteration that had failures, ascending. */
  async rewardFailures(): Promise<{ iteration: number; failed: RewardFailure[] }[]> {
    const dir = join(this.path, 'reward-errors');
    const out: { iteration: number; failed: RewardFailure[] }[] = [];
    for (const iteration of await iterationsIn(dir, '.json')) {
      const failed = await this.rewardFailuresOf(iteration);
      if (failed.length > 0) out.push({ iteration, failed });
    }
    return out;
  }

  /** reward-errors/iter-N.json's `failed` list; [] when the iteration had none. */
  async rewardFailuresOf(iteration: number): Promise<RewardFailure[]> {
    const file = join(this.path, 'reward-errors', `${iterName(iteration)}.json`);
    const json = await readOptionalJson(file);
    if (json === undefined) return [];
    return checked(rewardErrorsFile.check(json, ''), json as { failed: RewardFailure[] }, file).failed;
  }

  /** evaluations.jsonl: held-out results, before training and after it. */
  async evaluations(): Promise<EvaluationLine[]> {
    const file = join(this.path, 'evaluations.jsonl');
    return (await readJsonLines(file)).map((v, i) => checked(evaluationLine.check(v, `line ${i + 1}`), v as EvaluationLine, file));
  }
}

function checked<T>(problem: string | undefined, value: T, file: string): T {
  if (problem) throw new UserError(`${file}: ${problem}; the file was not written by this version of GRPO Studio or was edited by hand`);
  return value;
}

async function iterationsIn(dir: string, ext: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.endsWith(ext))
    .map((n) => /^iter-(\d+)\./.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
