import type { IterationMetrics, TrainerEvent } from '../trainer/events';

/**
 * Prints training as a person follows it: a generation progress bar on a terminal, then
 * one block per iteration with reward, loss, KL and timings.
 */
export function printTrainerEvent(e: TrainerEvent, total: number, out: NodeJS.WriteStream = process.stdout): void {
  const tty = out.isTTY === true;
  switch (e.type) {
    case 'run-started':
      out.write(
        `run ${e.runDir}\n  model ${e.model} (${(e.parameters / 1e6).toFixed(2)}M parameters), backend ${e.backend}` +
          (e.resumedFrom !== undefined ? `\n  resuming after iteration ${e.resumedFrom}` : '') +
          '\n',
      );
      break;
    case 'generation-progress':
      if (tty) out.write(`\r  generating ${bar(e.step / e.maxNewTokens)} ${e.step}/${e.maxNewTokens} tokens`);
      break;
    case 'rollout-ready':
      if (tty) out.write('\r\x1b[K');
      break;
    case 'metrics':
      out.write(iterationBlock(e.metrics, total));
      break;
    case 'reward-reloaded':
      out.write(`  reward ${e.file} reloaded (version ${e.version.slice(0, 8)})\n`);
      break;
    case 'reward-reload-failed':
      out.write(`  reward ${e.file}${e.line ? `:${e.line}:${e.column ?? 0}` : ''} does not compile, keeping the last good version: ${e.message}\n`);
      break;
    case 'rewards-scored':
      for (const f of e.failed) {
        const n = f.errors.reduce((k, x) => k + x.samples.length, 0);
        out.write(`  reward ${f.fn} failed on ${n} sample(s): ${f.errors[0].message}\n`);
      }
      break;
    case 'evaluation': {
      const parts = Object.entries(e.rewards).map(([fn, v]) => `${fn} ${Number.isFinite(v) ? v.toFixed(3) : '-'}`);
      out.write(`held-out ${e.iteration === 0 ? 'before training' : `after iteration ${e.iteration}`}: reward ${Number.isFinite(e.reward) ? e.reward.toFixed(3) : '-'} (${parts.join(', ')}) over ${e.prompts} prompts, greedy, ${e.seconds.toFixed(1)} s\n`);
      break;
    }
    case 'checkpoint-saved':
      out.write(`  checkpoint ${e.path}\n`);
      break;
    case 'warning':
      out.write(`  warning: ${e.message}\n`);
      break;
    case 'finished':
      out.write(`${e.reason} after iteration ${e.iteration}; run folder ${e.runDir}\n`);
      break;
    default:
      break;
  }
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

function num(m: IterationMetrics, key: string, digits = 3): string {
  const v = m[key];
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function iterationBlock(m: IterationMetrics, total: number): string {
  const seconds = ['time/generate', 'time/score_logprobs', 'time/rewards', 'time/update'].reduce((s, k) => s + (Number(m[k]) || 0), 0);
  return (
    `iteration ${m.iteration}/${total}  reward ${num(m, 'reward')} ± ${num(m, 'reward_std')}  loss ${num(m, 'loss', 4)}  kl ${num(m, 'kl', 4)}  ` +
    `entropy ${num(m, 'entropy', 2)}  length ${num(m, 'completions/mean_length', 1)}  zero-std groups ${num(m, 'frac_reward_zero_std', 2)}\n` +
    `  ${seconds.toFixed(1)} s: generate ${num(m, 'time/generate', 1)} s (${num(m, 'tokens_per_second/generate', 0)} tok/s), ` +
    `rewards ${num(m, 'time/rewards', 2)} s, update ${num(m, 'time/update', 1)} s; lr ${num(m, 'learning_rate', 7)}, clip ${num(m, 'clip_ratio/region_mean', 3)}\n`
  );
}
