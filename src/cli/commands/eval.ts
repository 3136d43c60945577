import { UserError } from '../../errors';
import { DEFAULT_SAMPLING } from '../../model/sampling';
import { RewardRunner } from '../../rewards/runner';
import { DEFAULT_REWARD_TIMEOUT_MS } from '../../rewards/timeout';
import { loadPromptDataset } from '../../trainer/dataset';
import { evaluate } from '../../trainer/evaluate';
import { existingPath, numberFlag, requireString } from '../args';
import { parseFlags } from '../flags';
import { BACKEND_FLAG, loadModelFolder, startBackend } from '../session';

export const EVAL_HELP = `grpo eval --model DIR --dataset FILE --reward FILE [--reward FILE] [options]

Generates one completion per prompt and prints the mean of each reward function.
  --greedy                 temperature 0 (default: sample at --temperature, default 1)
  --temperature T  --max-new-tokens N (default 128)  --stop STR  --seed S  --chat
  --batch-size N           prompts per generation batch (default 16)
  --reward-timeout-ms MS   time limit of one reward call (default ${DEFAULT_REWARD_TIMEOUT_MS}, as in training)
  --reward-child-processes let reward code start child processes (off: it runs under Node's permission model)
  --json                   {"prompts": n, "rewards": {fn: mean}, "total": mean, "failures": {fn: n}}
  --backend auto|tensorflow|wasm|cpu|webgpu`;

export async function evalCommand(argv: string[]): Promise<void> {
  const c = 'eval';
  const v = parseFlags(c, argv, {
    model: { type: 'string' },
    dataset: { type: 'string' },
    reward: { type: 'string', multiple: true },
    greedy: { type: 'boolean' },
    temperature: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    stop: { type: 'string', multiple: true },
    seed: { type: 'string' },
    chat: { type: 'boolean' },
    'batch-size': { type: 'string' },
    'reward-timeout-ms': { type: 'string' },
    'reward-child-processes': { type: 'boolean' },
    json: { type: 'boolean' },
    ...BACKEND_FLAG,
  });
  const model = requireString(v, 'model');
  const dataset = existingPath('dataset', requireString(v, 'dataset'), 'file');
  const rewardFiles = ((v.reward as string[] | undefined) ?? []).map((f) => existingPath('reward', f, 'file'));
  if (rewardFiles.length === 0) throw new UserError('--reward is required (a reward file; repeat it for several)');
  const temperature = v.greedy ? 0 : numberFlag(v, 'temperature', 1, { min: 0 });
  const backend = await startBackend(v);
  const rows = await loadPromptDataset(dataset);
  const loaded = await loadModelFolder(model, true);
  const timeoutMs = numberFlag(v, 'reward-timeout-ms', DEFAULT_REWARD_TIMEOUT_MS, { min: 1, integer: true });
  const rewards = await RewardRunner.start(rewardFiles.map((file) => ({ file })), {
    workspaceRoot: process.cwd(),
    timeoutMs,
    childProcesses: v['reward-child-processes'] === true,
  });
  try {
    const result = await evaluate(loaded.model, loaded.tokenizer!, rows, rewards, {
      sampling: { ...DEFAULT_SAMPLING, temperature },
      maxNewTokens: numberFlag(v, 'max-new-tokens', 128, { min: 1, integer: true }),
      useChatTemplate: v.chat === true,
      stopStrings: (v.stop as string[] | undefined) ?? [],
      seed: numberFlag(v, 'seed', 0, { min: 0, integer: true }),
      batchSize: numberFlag(v, 'batch-size', 16, { min: 1, integer: true }),
      iteration: 0,
    });
    if (v.json) {
      process.stdout.write(JSON.stringify({ prompts: result.prompts, rewards: result.mean, total: result.total, failures: result.failures, backend: backend.name }) + '\n');
      return;
    }
    process.stdout.write(`${result.prompts} prompts, ${temperature === 0 ? 'greedy' : `temperature ${temperature}`}, ${result.seconds.toFixed(1)} s on ${backend.name}\n`);
    for (const [fn, m] of Object.entries(result.mean)) {
      const failed = result.failures[fn] ? ` (${result.failures[fn]} failed)` : '';
      process.stdout.write(`  ${fn.padEnd(24)} ${m.toFixed(4)}${failed}\n`);
    }
    process.stdout.write(`  ${'total'.padEnd(24)} ${result.total.toFixed(4)}\n`);
  } finally {
    await rewards.close();
    loaded.model.dispose();
  }
}
