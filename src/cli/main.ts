import { silenceCpuBanner } from '../engine/cpu-banner';
import { UserError } from '../errors';
import { closestKey } from '../trainer/config-fields';
import { BENCH_HELP, benchCommand } from './commands/bench';
import { EVAL_HELP, evalCommand } from './commands/eval';
import { EXPORT_HELP, exportCommand } from './commands/export';
import { GENERATE_HELP, generateCommand } from './commands/generate';
import { MERGE_HELP, mergeCommand } from './commands/merge';
import { INIT_MODEL_HELP, initModelCommand } from './commands/init-model';
import { RESCORE_HELP, rescoreCommand } from './commands/rescore';
import { SCHEMA_HELP, schemaCommand } from './commands/schema';
import { SCORE_HELP, scoreCommand } from './commands/score';
import { SERVE_REWARDS_HELP, serveRewardsCommand } from './commands/serve-rewards';
import { SFT_HELP, sftCommand } from './commands/sft';
import { TRAIN_HELP, trainCommand } from './commands/train';
import { EXIT } from './exit-codes';
import { fileSystemProblem } from './fs-errors';

/** A command returns its exit status, or nothing for EXIT.ok. */
type Command = { run: (argv: string[]) => Promise<number | void>; help: string; summary: string };

const COMMANDS: Record<string, Command> = {
  train: { run: trainCommand, help: TRAIN_HELP, summary: 'train a model with GRPO (config file, or the flags of earlier GRPO scripts)' },
  sft: { run: sftCommand, help: SFT_HELP, summary: 'supervised fine-tuning on prompt/answer pairs (warm starts)' },
  merge: { run: mergeCommand, help: MERGE_HELP, summary: 'fold a LoRA adapter into its base model: a plain HF model folder' },
  eval: { run: evalCommand, help: EVAL_HELP, summary: 'mean reward of a model over a dataset' },
  rescore: { run: rescoreCommand, help: RESCORE_HELP, summary: "score a run's last rollout again with the reward files as they are now" },
  generate: { run: generateCommand, help: GENERATE_HELP, summary: 'sample completions from a model folder' },
  score: { run: scoreCommand, help: SCORE_HELP, summary: 'per-token log-probabilities of given ids or text' },
  export: { run: exportCommand, help: EXPORT_HELP, summary: 'write a run as a TRL script for accelerate launch on many GPUs' },
  'serve-rewards': { run: serveRewardsCommand, help: SERVE_REWARDS_HELP, summary: 'serve the reward functions over HTTP, for TRL, OpenRLHF or veRL elsewhere' },
  'init-model': { run: initModelCommand, help: INIT_MODEL_HELP, summary: 'write a randomly initialised HF model folder' },
  schema: { run: schemaCommand, help: SCHEMA_HELP, summary: 'print the JSON Schema of grpo.config.json' },
  bench: { run: benchCommand, help: BENCH_HELP, summary: 'measure generation and training-step speed' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return (
    `usage: grpo <command> [flags]\n\n${lines.join('\n')}\n\n` +
    'Run grpo <command> --help for its flags. Flags may be spelt with dashes or underscores\n' +
    '(--learning-rate or --learning_rate), and take their value as --flag VALUE or --flag=VALUE.\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return EXIT.ok;
  }
  if (name === undefined) {
    process.stderr.write(`grpo: give a command\n${usage()}`);
    return EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    const close = closestKey(name, Object.keys(COMMANDS));
    process.stderr.write(`grpo: unknown command "${name}"${close ? `; did you mean "${close}"?` : ''}\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help + '\n');
    return EXIT.ok;
  }
  try {
    return (await command.run(rest)) ?? EXIT.ok;
  } catch (e) {
    // Errors the user can fix are one line; anything else is a bug and keeps its stack.
    const problem = e instanceof UserError ? e.message : fileSystemProblem(e);
    if (problem !== undefined) process.stderr.write(`grpo ${name}: ${problem}\n`);
    else process.stderr.write(`grpo ${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.error;
  }
}

silenceCpuBanner();
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
