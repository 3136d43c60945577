// The verdict printed when `grpo train` ends, read back from the run folder (the source of
// truth): held-out reward before and after, the best checkpoint kept, the wall time, and the
// command that goes on from here.
import { RunFolder } from '../run-folder/run-folder';
import type { EvaluationLine } from '../protocol/dashboard-messages';
import { runCheckpoints } from '../trl/checkpoints';
import { formatDuration } from './iteration-rate';
import { displayPath, shellWord } from './invocation';

export interface RunEnd {
  runDir: string;
  reason: 'completed' | 'stopped';
  /** Iterations done, and the run's num_iterations. */
  iteration: number;
  total: number;
  /** Wall time of this process's training. */
  seconds: number;
  /** Stretches without a learning signal (trainer `no-learning-signal` events). */
  noSignal: readonly { fromIteration: number; iteration: number }[];
  /** How the user runs grpo (./invocation). */
  grpo: string;
}

export async function runSummary(end: RunEnd): Promise<string> {
  const run = displayPath(end.runDir);
  const evaluations = await new RunFolder(end.runDir).evaluations();
  const lines = [
    end.reason === 'completed'
      ? `completed ${end.iteration} iterations in ${formatDuration(end.seconds)}`
      : `stopped after iteration ${end.iteration} of ${end.total} (${formatDuration(end.seconds)} in this session)`,
  ];
  const heldOut = heldOutLine(evaluations);
  if (heldOut) lines.push(heldOut);
  lines.push(await bestCheckpointLine(end.runDir, evaluations));
  lines.push(`run folder: ${run} (metrics.jsonl, evaluations.jsonl, rollouts/, reward-errors/, reward-logs/, log.txt)`);
  if (end.noSignal.length > 0) {
    const spans = end.noSignal.map((s) => `${s.fromIteration}-${s.iteration}`).join(', ');
    lines.push(`no learning signal in iterations ${spans}: see the warning above`);
  }
  const resume = `${end.grpo} train --resume ${shellWord(run)}`;
  lines.push(end.reason === 'completed' ? `to train further: ${resume} --num_iterations N (N above ${end.total})` : `to continue: ${resume}`);
  return lines.map((l, i) => (i === 0 ? l : `  ${l}`)).join('\n') + '\n';
}

function heldOutLine(evaluations: EvaluationLine[]): string | undefined {
  const before = evaluations.find((e) => e.iteration === 0);
  const after = evaluations.filter((e) => e.iteration > 0).pop();
  if (!before && !after) return undefined;
  const at = (e: EvaluationLine) => `${reward(e.reward)} ${e.iteration === 0 ? 'before training' : `after iteration ${e.iteration}`}`;
  const span = before && after ? `${at(before)} -> ${at(after)}` : at((before ?? after)!);
  return `held-out reward ${span} (${(before ?? after)!.prompts} prompts, greedy)`;
}

/** The kept checkpoint with the best held-out reward; the newest where none was evaluated. */
async function bestCheckpointLine(runDir: string, evaluations: EvaluationLine[]): Promise<string> {
  const kept = await runCheckpoints(runDir);
  if (kept.length === 0) return 'no checkpoint was saved';
  const scored = kept
    .map((c) => ({ ...c, reward: evaluations.find((e) => e.iteration === c.iteration)?.reward ?? null }))
    .filter((c): c is typeof c & { reward: number } => c.reward !== null);
  if (scored.length === 0) {
    const newest = kept[kept.length - 1];
    return `newest checkpoint: ${displayPath(newest.path)} (iteration ${newest.iteration}; no held-out evaluation at a kept checkpoint to rank them by)`;
  }
  // On a tie the later checkpoint wins: it has trained longer for the same score.
  const best = scored.reduce((a, b) => (b.reward >= a.reward ? b : a));
  return `best checkpoint: ${displayPath(best.path)} (held-out reward ${reward(best.reward)} at iteration ${best.iteration}, of ${kept.length} kept)`;
}

const reward = (r: number | null) => (r === null ? '-' : r.toFixed(3));
