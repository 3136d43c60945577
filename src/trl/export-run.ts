// `grpo export --target trl`: a folder that runs the same GRPO training with TRL under
// `accelerate launch` (many GPUs, vLLM where the user sets it up), its rewards still the
// workspace's TypeScript files, served by `grpo serve-rewards`. Everything it needs is copied
// in (model, prompts with their columns, the Python side), so it can move to another machine.
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';
import { RewardRunner } from '../rewards/runner';
import type { TrainingConfig } from '../trainer/config';
import { loadPromptDataset } from '../trainer/dataset';
import { stepsPerIteration, trlGrpoConfig, trlLoraConfig, trlReference } from './grpo-config';
import { trlPackageRoot } from './python';

export const DEFAULT_REWARDS_PORT = 8765;

/** accelerate's settings for one machine of 8 GPUs; `num_processes` is the one to edit. */
const ACCELERATE_GPUS = `compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
mixed_precision: bf16
num_machines: 1
machine_rank: 0
num_processes: 8
gpu_ids: all
use_cpu: false
`;

/** One process on the CPU: to try the folder where there is no GPU. */
const ACCELERATE_CPU = `compute_environment: LOCAL_MACHINE
distributed_type: 'NO'
mixed_precision: 'no'
num_machines: 1
num_processes: 1
use_cpu: true
`;

export interface ExportedRun {
  dir: string;
  rewardFunctions: string[];
}

/** Writes the folder; `configFile` is where the config came from (the reward server reads it again). */
export async function exportTrlRun(config: TrainingConfig, configFile: string, out: string, workspaceRoot: string): Promise<ExportedRun> {
  const dir = resolve(out);
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new UserError(`${dir} is not empty; give a new folder to --out (an export never overwrites files)`);
  const steps = stepsPerIteration(config);
  // The reward files compile and load now, so the export names their functions (TRL logs each).
  const rewards = await RewardRunner.start(config.rewards.map((r) => ({ file: r.file, functions: r.functions, weight: r.weight })), { workspaceRoot, timeoutMs: config.reward_timeout_ms });
  const infos = rewards.rewards();
  await rewards.close();
  const trl = {
    ...trlGrpoConfig(config, configFile, 'outputs', infos.map((r) => r.weight)),
    // Unattended: TRL saves and logs by itself, with its progress bar.
    save_strategy: config.checkpoint_every > 0 ? 'steps' : 'no',
    save_steps: Math.max(1, config.checkpoint_every * steps),
    disable_tqdm: false,
  };
  const rows = await loadPromptDataset(config.dataset_path);
  try {
    await mkdir(dir, { recursive: true });
    await cp(config.model_path, join(dir, 'model'), { recursive: true });
    await writeFile(
      join(dir, 'train.jsonl'),
      rows
        .map((r) => JSON.stringify({ ...r.row, prompt: typeof r.prompt === 'string' && config.chat_template ? [{ role: 'user', content: r.prompt }] : r.prompt }))
        .join('\n') + '\n',
    );
    // A continued adapter travels with the model; the reference settings are read by the same
    // grpo_trl/reference.py the trl engine uses.
    const adapter = config.lora?.adapter_path;
    if (adapter) await cp(adapter, join(dir, 'adapter'), { recursive: true });
    const reference = { ...trlReference(config), adapter_path: adapter ? 'adapter' : null };
    const settings = { trl, model: 'model', dataset: 'train.jsonl', lora: trlLoraConfig(config) ?? null, reference, reward_functions: infos.map((r) => r.name), steps_per_iteration: steps };
    await writeFile(join(dir, 'grpo_config.json'), JSON.stringify(settings, null, 2) + '\n');
    await cp(join(trlPackageRoot(), 'export', 'train_grpo.py'), join(dir, 'train_grpo.py'));
    await mkdir(join(dir, 'grpo_trl'));
    for (const f of ['rewards.py', 'remote.py', 'reference.py']) await cp(join(trlPackageRoot(), 'grpo_trl', f), join(dir, 'grpo_trl', f));
    await writeFile(join(dir, 'accelerate.yaml'), ACCELERATE_GPUS);
    await writeFile(join(dir, 'accelerate-cpu.yaml'), ACCELERATE_CPU);
    const serve = `grpo serve-rewards --config ${JSON.stringify(resolve(configFile))} --port ${DEFAULT_REWARDS_PORT}`;
    await writeFile(join(dir, 'serve-rewards.sh'), `#!/bin/sh\n# The TypeScript rewards of this run, served for train_grpo.py (keep it running).\nexec ${serve} "$@"\n`, { mode: 0o755 });
    await writeFile(join(dir, 'README.md'), readme(serve, infos.map((r) => `${r.name} (${r.file}, weight ${r.weight})`), adapter !== undefined));
  } catch (e) {
    await rm(dir, { recursive: true, force: true }); // half an export is no export
    throw e;
  }
  return { dir, rewardFunctions: infos.map((r) => r.name) };
}

function readme(serve: string, rewards: string[], adapter: boolean): string {
  return `# GRPO run for TRL

Written by \`grpo export --target trl\`: the GRPO Studio run as TRL's GRPOTrainer under accelerate.

1. Start the reward server where the reward files are (it prints the URL it listens on;
   \`--host 0.0.0.0\` to reach it from other machines):

       ${serve}

2. Train (8 GPUs per accelerate.yaml; edit num_processes there):

       accelerate launch --config_file accelerate.yaml train_grpo.py --rewards-url http://HOST:${DEFAULT_REWARDS_PORT}

   Without a GPU, to try it: \`accelerate launch --config_file accelerate-cpu.yaml train_grpo.py --max-steps 2\`.

Rewards, scored by the server: ${rewards.join('; ')}. Each training process sends its own
completions; the server scores requests in turn and reloads edited reward files between them.

- grpo_config.json: GRPOConfig's fields (under "trl") mapped from grpo.config.json; add TRL's
  own there (use_vllm, vllm_mode, ...). Checkpoints and logs go to outputs/.
- train.jsonl: the prompts with every column, which the rewards receive as the sample's row.
- model/: the starting model.${adapter ? '\n- adapter/: the LoRA adapter the run continues (lora.adapter_path); the reference is this adapter.' : ''}
`;
}
