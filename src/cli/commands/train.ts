import { NO_SIGNAL_STREAK } from '../../trainer/run-health';
import { createTrainingRun } from '../../trainer/training-run';
import { EXIT } from '../exit-codes';
import { parseFlags } from '../flags';
import { grpoInvocation } from '../invocation';
import { runSummary } from '../run-summary';
import { resolveTrainSettings, SETTING_FLAG_NAMES, TRAIN_FLAGS } from '../train-settings';
import { TrainProgress } from '../train-progress';

export const TRAIN_HELP = `grpo train --config grpo.config.json [--SETTING VALUE]...
grpo train --resume RUN_DIR [--num_iterations N]
grpo train --model_path DIR --dataset_path FILE --reward FILE [--SETTING VALUE]...

Trains with GRPO. Each run writes .grpo/runs/<id>/ (config, metrics.jsonl, rollouts,
checkpoints). --resume continues a run exactly from its newest checkpoint.

Every setting of grpo.config.json is also a flag, over the file's value (grpo schema
documents each one):
${wrap(SETTING_FLAG_NAMES.map((n) => `--${n}`))}
--python PYTHON is the Python of "engine": "trl" (default: GRPO_PYTHON, else python3).
--reward FILE (repeatable) gives the reward files, each with weight 1. Flags may be spelt
with dashes or underscores (--learning-rate); relative paths in flags are taken from the
current folder. A switch is --name, --name=false or --no-name.

Progress is one line per iteration (its columns are explained at the start), with a live
status line on a terminal, and a summary at the end: held-out reward before and after, the
best checkpoint, the wall time, and the command that continues the run.
Ctrl-C stops after the current iteration and saves a checkpoint; a second Ctrl-C quits at once.

Exit status: ${EXIT.ok} completed; ${EXIT.error} an error (the message says what to fix); ${EXIT.noSignal} completed, but in
${NO_SIGNAL_STREAK} or more iterations in a row the rewards gave no learning signal (every reward failed, or
none varied within any group; a warning said so at the time); ${EXIT.stopped} stopped before
num_iterations (continue it with --resume).`;

export async function trainCommand(argv: string[]): Promise<number> {
  const v = parseFlags('train', argv, TRAIN_FLAGS);
  const settings = await resolveTrainSettings(v);
  for (const n of settings.notes) process.stdout.write(`note: ${n}\n`);
  for (const w of settings.warnings) process.stdout.write(`warning: ${w}\n`);
  const { config } = settings;
  const trainer = await createTrainingRun(config, { workspaceRoot: settings.workspaceRoot, resumeRunDir: v.resume as string | undefined, python: v.python as string | undefined });
  const progress = new TrainProgress(process.stdout, config.num_iterations);
  const noSignal: { fromIteration: number; iteration: number }[] = [];
  let finished: { reason: 'completed' | 'stopped' | 'failed'; iteration: number } | undefined;
  trainer.on((e) => {
    progress.handle(e);
    if (e.type === 'no-learning-signal') noSignal.push(e);
    if (e.type === 'finished') finished = e;
  });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted); // the last checkpoint stays intact
    process.stdout.write('\nstopping after this iteration (Ctrl-C again to quit at once)\n');
    trainer.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  try {
    await trainer.train();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await trainer.close();
  }
  const reason = finished?.reason === 'stopped' ? 'stopped' : 'completed';
  const summary = await runSummary({
    runDir: trainer.run.path,
    reason,
    iteration: finished?.iteration ?? 0,
    total: config.num_iterations,
    seconds: (performance.now() - started) / 1000,
    noSignal,
    grpo: grpoInvocation(),
  });
  process.stdout.write(summary);
  if (reason === 'stopped') return EXIT.stopped;
  return noSignal.length > 0 ? EXIT.noSignal : EXIT.ok;
}

/** Words joined by spaces into indented lines of at most 88 characters. */
function wrap(words: string[]): string {
  const lines = [''];
  for (const w of words) {
    const last = lines.length - 1;
    if (lines[last] !== '' && lines[last].length + 1 + w.length > 86) lines.push(w);
    else lines[last] = lines[last] === '' ? w : `${lines[last]} ${w}`;
  }
  return lines.map((l) => `  ${l}`).join('\n');
}
