// The settings of a `grpo train` run: a config file, a run's own snapshot (--resume), or flags
// alone, with flags over the file. Every setting of grpo.config.json is a flag of the same
// name, derived from TRAINING_CONFIG_FIELDS, so a new setting is a flag the day it exists.
// A flag's value is checked by its field's own rule and a problem names the flag; a relative
// path in a flag is taken from the current folder, as a shell user expects, while one in a
// config file is taken from the file's folder.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors';
import {
  loadTrainingConfig, parseTrainingConfig, TRAINING_CONFIG_FIELDS, trainingConfigWarnings, type TrainingConfig,
} from '../trainer/config';
import { FieldProblem, type Field } from '../trainer/config-fields';
import { existingPath } from './args';
import type { FlagSpecs, Values } from './flags';

type FieldName = keyof typeof TRAINING_CONFIG_FIELDS;
const FIELDS = TRAINING_CONFIG_FIELDS as Record<FieldName, Field<unknown>>;

/** Given as --reward FILE (repeatable, weight 1) rather than as a flag of its own. */
const NOT_A_FLAG: ReadonlySet<string> = new Set(['rewards']);
/** Paths that must exist when a flag names them; checked here so the message names the flag. */
const INPUT_PATHS: Partial<Record<FieldName, 'file' | 'folder'>> = { model_path: 'folder', dataset_path: 'file', eval_dataset_path: 'file' };

/** What a resumed run may change: how long it goes on, and where and in how much memory it
 * computes (a run that ran out of memory continues with a smaller budget or on another backend;
 * neither changes what is learnt beyond floating-point rounding). */
const RESUME_MAY_CHANGE: ReadonlySet<string> = new Set(['num_iterations', 'memory_budget_mb', 'backend']);

const settingNames = (Object.keys(FIELDS) as FieldName[]).filter((k) => !NOT_A_FLAG.has(k));

/** The flags `grpo train` takes. */
export const TRAIN_FLAGS: FlagSpecs = {
  config: { type: 'string' },
  resume: { type: 'string' },
  python: { type: 'string' },
  reward: { type: 'string', multiple: true },
  ...Object.fromEntries(
    settingNames.map((k) => [k, FIELDS[k].schema.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: FIELDS[k].schema.type === 'array' }]),
  ),
};

/** Every setting flag, for the help text. */
export const SETTING_FLAG_NAMES: readonly string[] = settingNames;

export interface TrainSettings {
  config: TrainingConfig;
  /** Where the settings came from, for messages: the file, "the flags", or both. */
  source: string;
  /** Reward imports resolve here. */
  workspaceRoot: string;
  /** Notes (TRL names read as ours) and warnings (valid but probably unintended), one line each. */
  notes: string[];
  warnings: string[];
}

export async function resolveTrainSettings(v: Values, env: NodeJS.ProcessEnv = process.env): Promise<TrainSettings> {
  const given = settingNames.filter((k) => v[k] !== undefined);
  const flagged = flagSettings(v, given);
  const notes: string[] = [];
  let json: Record<string, unknown>;
  let file: string | undefined;
  let baseDir: string;
  if (typeof v.resume === 'string') {
    // The run's own snapshot, with absolute paths, so the resumed run is the same run.
    const extra = [...given, ...(v.config !== undefined ? ['config'] : []), ...(v.reward !== undefined ? ['reward'] : [])].filter((k) => !RESUME_MAY_CHANGE.has(k));
    if (extra.length > 0) {
      throw new UserError(`--resume continues a run with its own settings; only --${[...RESUME_MAY_CHANGE].join(', --')} may change (got --${extra.join(', --')})`);
    }
    file = join(v.resume, 'config.json');
    if (!existsSync(file)) throw new UserError(`--resume ${v.resume}: no config.json there; give a run folder such as .grpo/runs/<id>`);
    json = readSnapshot(file);
    baseDir = dirname(resolve(file));
  } else if (typeof v.config === 'string') {
    file = v.config;
    json = { ...(await loadTrainingConfig(file, notes)) };
    baseDir = dirname(resolve(file));
  } else {
    if (v.model_path === undefined || v.dataset_path === undefined || v.reward === undefined) {
      throw new UserError('give --config FILE, or --resume RUN_DIR, or --model_path, --dataset_path and --reward');
    }
    json = {};
    baseDir = process.cwd();
    if (flagged.minibatch_size === undefined && flagged.rollout_batch_size !== undefined && flagged.group_size !== undefined) {
      // Earlier GRPO scripts had no minibatch setting: one optimizer step over the whole rollout.
      json.minibatch_size = Number(flagged.rollout_batch_size) * Number(flagged.group_size);
    }
  }
  if (v.reward !== undefined) json.rewards = (v.reward as string[]).map((f) => ({ file: resolve(existingPath('reward', f, 'file')) }));
  Object.assign(json, flagged);
  const flags = [...given, ...(v.reward !== undefined ? ['reward'] : [])].map((k) => `--${k}`).join(', ');
  const source = file === undefined ? `the flags (${flags})` : flags === '' ? file : `${file} with ${flags}`;
  let config = parseTrainingConfig(json, source, { baseDir });
  if (config.backend === 'auto' && v.backend === undefined) config = withEnvBackend(config, env);
  return { config, source, workspaceRoot: baseDir, notes: notes.map((n) => `${file}: ${n}`), warnings: trainingConfigWarnings(config, source) };
}

/** The given setting flags as config values, each checked by its field's rule. */
function flagSettings(v: Values, given: readonly FieldName[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of given) {
    const field = FIELDS[key];
    const raw = v[key];
    const value = field.schema.type === 'number' || field.schema.type === 'integer' ? numeric(key, raw) : field.schema.type === 'object' ? jsonObject(key, raw) : raw;
    let checked: ReturnType<typeof field.check>;
    try {
      checked = field.check(value, { at: key, resolvePath: (p) => resolve(p) });
    } catch (e) {
      // An object setting's own fields (--lora '{"r": 0}') name themselves.
      if (e instanceof FieldProblem) throw new UserError(`--${key}: ${e.message}`);
      throw e;
    }
    if (!checked.ok) throw new UserError(`--${key} must be ${checked.expected}, got ${JSON.stringify(raw)}${field.why ? ` (${field.why})` : ''}`);
    const kind = INPUT_PATHS[key];
    if (kind !== undefined) existingPath(key, raw as string, kind);
    out[key] = checked.value;
  }
  return out;
}

/** An object setting given as a flag: JSON, as in the file (--lora '{"r": 16}'). */
function jsonObject(key: string, raw: unknown): unknown {
  try {
    return JSON.parse(String(raw));
  } catch (e) {
    throw new UserError(`--${key} takes a JSON object, as in grpo.config.json (--${key} '{"r": 16}'), got ${JSON.stringify(raw)}: ${(e as Error).message}`);
  }
}

function numeric(key: string, raw: unknown): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new UserError(`--${key} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

function readSnapshot(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message}); this run folder's config snapshot was damaged, so the run cannot be resumed`);
  }
}

/** GRPO_BACKEND picks the backend of a config that leaves it to "auto", as for every other command. */
function withEnvBackend(config: TrainingConfig, env: NodeJS.ProcessEnv): TrainingConfig {
  const requested = env.GRPO_BACKEND;
  if (requested === undefined || requested === '') return config;
  const backend = TRAINING_CONFIG_FIELDS.backend.check(requested, { at: '' });
  if (!backend.ok) throw new UserError(`GRPO_BACKEND=${requested}: must be ${backend.expected}; fix it or unset GRPO_BACKEND`);
  return { ...config, backend: backend.value };
}
