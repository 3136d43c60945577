import { dirname, resolve } from 'node:path';
import { UserError } from '../../errors';
import { RewardRunner, type RewardSpec, type RunnerOptions } from '../../rewards/runner';
import { DEFAULT_REWARD_TIMEOUT_MS } from '../../rewards/timeout';
import { RewardServer, ROUTES_TEXT } from '../../serve-rewards/reward-server';
import { ServeLog } from '../../serve-rewards/serve-log';
import { loadTrainingConfig } from '../../trainer/config';
import { existingPath, numberFlag } from '../args';
import { parseFlags, type Values } from '../flags';

const DEFAULT_PORT = 8765;

export const SERVE_REWARDS_HELP = `grpo serve-rewards (--config FILE | --reward FILE [--reward FILE]...) [options]

Serves the reward functions over HTTP, for a trainer on other machines (TRL under accelerate,
OpenRLHF, veRL). Each request is scored with the reward files as they are on disk then: an edit
takes effect at the next request, never in the middle of one, and a file that no longer compiles
or loads keeps its last good version (said once on stderr). Requests are scored one after the
other; OpenRLHF's are merged into shared calls. Runs until SIGINT or SIGTERM, then finishes the
request being scored and exits.
  --config FILE            the rewards (files, weights, functions), reward_timeout_ms and
                           reward_child_processes of a training config (checked as grpo train
                           checks it); reward code may write in its folder and its output_dir
  --reward FILE            a reward file, weight 1, instead of --config; repeat for several.
                           Reward code may write in the current folder
  --host H                 the address to listen on (default 127.0.0.1: this machine only).
                           --host 0.0.0.0 opens it to the network, without authentication:
                           anyone who reaches the port can run your reward code on their input
  --port P                 default ${DEFAULT_PORT}; 0 picks a free one. The URL is printed on stdout
  --label-field NAME       the row column OpenRLHF's labels go in (default answer, which
                           examples/rewards/exact-answer.reward.ts reads as sample.row.answer)
  --workers N              processes per reward file scoring in parallel (default 2)
  --reward-timeout-ms MS   time limit of one reward call (default: the config's, else ${DEFAULT_REWARD_TIMEOUT_MS})
  --reward-child-processes let reward code start child processes (default: the config's, else off)

POST /score       {"samples": [{"prompt", "completion", "completion_ids"?, "row"?}], "iteration"?}
                  -> {"functions": [{"name", "file", "version", "weight", "values"}], "total",
                      "errors", "logs", "metrics"}: a value is null where the function failed or
                      returned null, a total null where no function gave a value
POST /get_reward  OpenRLHF's remote reward (--remote_rm_url http://HOST:PORT/get_reward):
                  {"query", "prompts", "labels"} -> {"rewards", "scores", "extra_logs":
                  {"reward_failures"}}. The completion is the query after its prompt, special
                  tokens included; OpenRLHF needs numbers, so a failed function counts 0, and a
                  query no function scored, or one that does not start with its prompt, gets 0
GET  /health      the reward functions with their files, versions in use and weights
A malformed request gets 400 with the field it concerns, a body over 64 MiB 413.`;

export async function serveRewardsCommand(argv: string[]): Promise<void> {
  const v = parseFlags('serve-rewards', argv, {
    config: { type: 'string' },
    reward: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
    'label-field': { type: 'string' },
    workers: { type: 'string' },
    'reward-timeout-ms': { type: 'string' },
    'reward-child-processes': { type: 'boolean' },
  });
  const host = nonEmpty(v, 'host', '127.0.0.1');
  const port = numberFlag(v, 'port', DEFAULT_PORT, { min: 0, max: 65535, integer: true });
  const labelField = nonEmpty(v, 'label-field', 'answer');
  const { specs, options } = await rewardSource(v);
  const runner = await RewardRunner.start(specs, options);
  let server: RewardServer;
  try {
    server = await RewardServer.start(runner, { host, port, labelField, log: new ServeLog((line) => process.stderr.write(`${line}\n`)) });
  } catch (e) {
    await runner.close();
    throw e;
  }
  const names = runner.rewards().map((r) => r.name);
  process.stdout.write(`serving ${names.length} reward function${names.length === 1 ? '' : 's'} (${names.join(', ')}) on ${server.url}\n`);
  process.stderr.write(`${ROUTES_TEXT}; stop with Ctrl-C\n`);
  const signal = await nextStopSignal();
  process.stderr.write(`${signal}: finishing the request in progress, then stopping\n`);
  try {
    await server.close();
  } finally {
    await runner.close();
  }
}

/** The reward specs and runner options, from --config or from --reward files. */
async function rewardSource(v: Values): Promise<{ specs: RewardSpec[]; options: RunnerOptions }> {
  const files = (v.reward as string[] | undefined) ?? [];
  if (typeof v.config === 'string' && files.length > 0) {
    throw new UserError('give --config or --reward, not both: --config serves the rewards its file lists');
  }
  const workers = numberFlag(v, 'workers', 2, { min: 1, integer: true });
  const childFlag = v['reward-child-processes'] as boolean | undefined;
  if (typeof v.config === 'string') {
    const file = existingPath('config', v.config, 'file');
    const config = await loadTrainingConfig(file);
    return {
      specs: config.rewards.map((r) => ({ file: r.file, functions: r.functions, weight: r.weight })),
      // The folder of the config is the workspace, as for grpo train.
      options: {
        workspaceRoot: dirname(resolve(file)),
        writable: [config.output_dir],
        timeoutMs: numberFlag(v, 'reward-timeout-ms', config.reward_timeout_ms, { min: 1, integer: true }),
        childProcesses: childFlag ?? config.reward_child_processes,
        workers,
      },
    };
  }
  if (files.length === 0) throw new UserError('give --config FILE (a training config) or --reward FILE (repeat it for several)');
  return {
    specs: files.map((f) => ({ file: existingPath('reward', f, 'file') })),
    options: {
      workspaceRoot: process.cwd(),
      timeoutMs: numberFlag(v, 'reward-timeout-ms', DEFAULT_REWARD_TIMEOUT_MS, { min: 1, integer: true }),
      childProcesses: childFlag ?? false,
      workers,
    },
  };
}

function nonEmpty(v: Values, flag: string, fallback: string): string {
  const s = v[flag];
  if (s === undefined) return fallback;
  if (typeof s !== 'string' || s.trim() === '') throw new UserError(`--${flag} must not be empty; leave it out for ${fallback}`);
  return s;
}

function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
