import { dirname, resolve } from 'node:path';
import { UserError } from '../../errors';
import { loadTrainingConfig } from '../../trainer/config';
import { DEFAULT_REWARDS_PORT, exportTrlRun } from '../../trl/export-run';
import { requireString } from '../args';
import { parseFlags } from '../flags';

export const EXPORT_HELP = `grpo export --target trl --config grpo.config.json --out DIR

Writes DIR: the run as TRL's GRPOTrainer for accelerate launch on one or many GPUs
(train_grpo.py, grpo_config.json with the settings mapped to GRPOConfig, accelerate.yaml
for 8 GPUs and accelerate-cpu.yaml for one CPU, the model, the prompts with their columns),
and serve-rewards.sh, which serves the config's TypeScript rewards over HTTP on port
${DEFAULT_REWARDS_PORT} (grpo serve-rewards) for it. DIR/README.md has the commands. A setting TRL
cannot honour is refused by name, as with "engine": "trl".`;

export async function exportCommand(argv: string[]): Promise<void> {
  const v = parseFlags('export', argv, { target: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' } });
  const target = requireString(v, 'target');
  if (target !== 'trl') throw new UserError(`--target ${target}: the one export target is "trl" (TRL's GRPOTrainer under accelerate)`);
  const file = typeof v.config === 'string' ? v.config : 'grpo.config.json';
  const config = await loadTrainingConfig(file);
  const out = requireString(v, 'out');
  const done = await exportTrlRun(config, file, out, dirname(resolve(file)));
  process.stdout.write(`wrote ${done.dir} (rewards: ${done.rewardFunctions.join(', ')}); see ${resolve(done.dir, 'README.md')} for the two commands that run it\n`);
}
