import { dirname, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../../errors';
import { loadTrainingConfig, parseTrainingConfig, trainingConfigWarnings, type TrainingConfig } from '../../trainer/config';
import { Trainer } from '../../trainer/trainer';
import { parseFlags, type Values } from '../args';
import { printTrainerEvent } from '../train-progress';

export const TRAIN_HELP = `grpo train --config grpo.config.json [overrides]
grpo train --resume RUN_DIR [--num_iterations N]
grpo train --model_path DIR --dataset_path FILE --reward FILE [overrides]

Trains with GRPO. Each run writes .grpo/runs/<id>/ (config, metrics.jsonl, rollouts,
checkpoints). --resume continues a run exactly from its newest checkpoint.
Overrides (also the flags of earlier GRPO scripts): --model_path --dataset_path
--num_iterations --rollout_batch_size --group_size --minibatch_size --learning_rate
--kl_coef --seed --max_new_tokens --backend. Ctrl-C stops after the current iteration and saves a checkpoint.`;

/** Flags that override a config field of the same name. */
const OVERRIDES: Record<string, 'string' | 'number'> = {
  model_path: 'string',
  dataset_path: 'string',
  num_iterations: 'number',
  rollout_batch_size: 'number',
  group_size: 'number',
  minibatch_size: 'number',
  learning_rate: 'number',
  kl_coef: 'number',
  seed: 'number',
  max_new_tokens: 'number',
  backend: 'string',
};

export async function trainCommand(argv: string[]): Promise<void> {
  const v = parseFlags('train', argv, {
    config: { type: 'string' },
    resume: { type: 'string' },
    reward: { type: 'string', multiple: true },
    ...Object.fromEntries(Object.keys(OVERRIDES).map((k) => [k, { type: 'string' as const }])),
  });
  const { config, file, workspaceRoot } = await resolveConfig(v);
  for (const w of trainingConfigWarnings(config, file)) process.stdout.write(`warning: ${w}\n`);
  const trainer = await Trainer.create(config, { workspaceRoot, resumeRunDir: v.resume as string | undefined });
  trainer.on((e) => printTrainerEvent(e, config.num_iterations));
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // a second Ctrl-C: the last checkpoint stays intact
    process.stdout.write('\nstopping after this iteration (Ctrl-C again to quit at once)\n');
    trainer.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await trainer.train();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await trainer.close();
  }
}

async function resolveConfig(v: Values): Promise<{ config: TrainingConfig; file: string; workspaceRoot: string }> {
  let json: Record<string, unknown>;
  let file: string;
  let baseDir: string;
  if (typeof v.resume === 'string') {
    // The run's own snapshot, with absolute paths, so the resumed run is the same run.
    file = join(v.resume, 'config.json');
    if (!existsSync(file)) throw new UserError(`--resume ${v.resume}: no config.json there; give a run folder such as .grpo/runs/<id>`);
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    baseDir = dirname(resolve(file));
    const extra = Object.keys(OVERRIDES).filter((k) => k !== 'num_iterations' && v[k] !== undefined);
    if (extra.length > 0) throw new UserError(`grpo train --resume: only --num_iterations may change on resume (got --${extra.join(', --')})`);
  } else if (typeof v.config === 'string') {
    file = v.config;
    const loaded = await loadTrainingConfig(file);
    json = { ...(loaded as unknown as Record<string, unknown>) };
    baseDir = dirname(resolve(file));
  } else {
    if (v.model_path === undefined || v.dataset_path === undefined || v.reward === undefined) {
      throw new UserError('grpo train: give --config FILE, or --resume RUN_DIR, or --model_path, --dataset_path and --reward');
    }
    file = '(command line)';
    json = { model_path: v.model_path, dataset_path: v.dataset_path, rewards: (v.reward as string[]).map((f) => ({ file: f })) };
    baseDir = process.cwd();
  }
  for (const [key, kind] of Object.entries(OVERRIDES)) {
    const raw = v[key];
    if (raw === undefined) continue;
    const value = kind === 'number' ? Number(raw) : raw;
    if (kind === 'number' && (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value))) {
      throw new UserError(`grpo train: --${key} must be a number, got "${String(raw)}"`);
    }
    json[key] = value;
  }
  if (file === '(command line)' && json.minibatch_size === undefined && json.rollout_batch_size !== undefined && json.group_size !== undefined) {
    // Earlier GRPO scripts had no minibatch setting: one optimizer step over the whole rollout.
    json.minibatch_size = Number(json.rollout_batch_size) * Number(json.group_size);
  }
  const config = parseTrainingConfig(json, file, { baseDir });
  return { config, file, workspaceRoot: baseDir };
}
