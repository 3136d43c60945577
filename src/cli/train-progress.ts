import { describeAdapter } from '../trainer/adapter-info';
import type { TrainerEvent } from '../trainer/events';
import { EXIT } from './exit-codes';
import { formatDuration, IterationRate } from './iteration-rate';
import { TABLE_LEGEND, tableHeader, tableRow } from './iteration-table';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Prints training as a person follows it: a legend once, then one table line per iteration,
 * evaluations, checkpoints, warnings. On a terminal a status line under the table shows the
 * running iteration, its phase, the rate and the time left; piped output gets the plain lines
 * only, with no carriage returns in them.
 */
export class TrainProgress {
  private readonly rate: IterationRate;
  private readonly tty: boolean;
  private iteration = 0;
  private tableStarted = false;
  private statusShown = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly total: number,
    now?: () => number,
  ) {
    this.rate = new IterationRate(now);
    this.tty = out.isTTY === true;
  }

  handle(e: TrainerEvent): void {
    switch (e.type) {
      case 'run-started':
        this.line(
          `run ${e.runDir}\n  model ${e.model} (${(e.parameters / 1e6).toFixed(2)}M parameters), backend ${e.backend}` +
            (e.adapter ? `\n  ${describeAdapter(e.adapter)}` : '') +
            (e.resumedFrom !== undefined ? `\n  resuming after iteration ${e.resumedFrom}` : '') +
            '\n',
        );
        break;
      case 'iteration-started':
        this.rate.start();
        this.iteration = e.iteration;
        this.status('starting');
        break;
      case 'generation-progress':
        this.status(`generating ${bar(e.step / e.maxNewTokens)} ${e.step}/${e.maxNewTokens} tokens`);
        break;
      case 'rollout-ready':
        this.status('scoring and updating');
        break;
      case 'metrics': {
        this.rate.tick();
        const header = this.tableStarted ? '' : `${TABLE_LEGEND}${tableHeader(this.total)}`;
        this.tableStarted = true;
        const rate = { secondsPerIteration: this.rate.secondsPerIteration, secondsLeft: this.rate.secondsLeft(this.total - e.iteration) };
        this.line(header + tableRow(e.metrics, this.total, rate));
        break;
      }
      case 'reward-reloaded':
        this.line(`  reward ${e.file} reloaded (version ${e.version.slice(0, 8)})\n`);
        break;
      case 'reward-reload-failed':
        this.line(`  reward ${e.file}${e.line ? `:${e.line}:${e.column ?? 0}` : ''} does not compile, keeping the last good version: ${e.message}\n`);
        break;
      case 'rewards-scored':
        for (const f of e.failed) {
          const n = f.errors.reduce((k, x) => k + x.samples.length, 0);
          this.line(`  reward ${f.fn} failed on ${n} sample(s): ${f.errors[0].message}\n`);
        }
        break;
      case 'evaluation': {
        const parts = Object.entries(e.rewards).map(([fn, v]) => `${fn} ${Number.isFinite(v) ? v.toFixed(3) : '-'}`);
        const when = e.iteration === 0 ? 'before training' : `after iteration ${e.iteration}`;
        const reward = Number.isFinite(e.reward) ? e.reward.toFixed(3) : '-';
        this.line(`held-out ${when}: reward ${reward} (${parts.join(', ')}) over ${e.prompts} prompts, greedy, ${e.seconds.toFixed(1)} s\n`);
        break;
      }
      case 'checkpoint-saved':
        this.line(`  checkpoint ${e.path}\n`);
        break;
      case 'warning':
        this.line(`  warning: ${e.message}\n`);
        break;
      case 'no-learning-signal': {
        // Loud on purpose: a run that teaches nothing is the costliest thing to overlook.
        const rule = '!'.repeat(72);
        const text = `${rule}\n!! ${e.message}.\n!! Training goes on; grpo train will exit with status ${EXIT.noSignal}.\n${rule}\n`;
        this.line(this.tty ? `\x1b[1;33m${text}\x1b[0m` : text);
        break;
      }
      case 'finished':
        // A run that ends well gets the summary (./run-summary) instead.
        if (e.reason === 'failed') this.line(`failed after iteration ${e.iteration}; run folder ${e.runDir}\n`);
        else this.line('');
        break;
      default:
        break;
    }
  }

  /** Permanent output: the status line, if any, is cleared first and redrawn by the next event. */
  private line(text: string): void {
    if (this.statusShown) this.out.write('\r\x1b[K');
    this.statusShown = false;
    this.out.write(text);
  }

  private status(phase: string): void {
    if (!this.tty) return;
    const perIteration = this.rate.secondsPerIteration;
    const left = this.rate.secondsLeft(this.total - this.iteration + 1);
    const rate = perIteration === undefined ? '' : ` · ${perIteration.toFixed(2)} s/it · ${formatDuration(left ?? 0)} left`;
    const text = `  iteration ${this.iteration}/${this.total} ${phase}${rate}`;
    this.out.write(`\r\x1b[K${text.slice(0, Math.max(20, (this.out.columns ?? 100) - 1))}`);
    this.statusShown = true;
  }
}

function bar(fraction: number, width = 20): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
