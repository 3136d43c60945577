import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The run folder, the source of truth for a run: a config snapshot, one metrics line per
 * iteration, each iteration's rollouts, reward errors and reward log lines, a log, and checkpoints.
 *   <run>/config.json  metrics.jsonl  evaluations.jsonl  log.txt  rollouts/iter-000001.jsonl
 *   <run>/reward-errors/iter-000001.json  reward-logs/iter-000001.log  checkpoints/iter-000001/
 */
export class RunDir {
  constructor(readonly path: string) {}

  static async create(outputDir: string, config: unknown, now = new Date()): Promise<RunDir> {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15); // 20261124-231500
    let path = join(outputDir, stamp);
    for (let n = 2; existsSync(path); n++) path = join(outputDir, `${stamp}-${n}`);
    const run = new RunDir(path);
    await mkdir(join(path, 'rollouts'), { recursive: true });
    await mkdir(join(path, 'reward-errors'), { recursive: true });
    await mkdir(join(path, 'reward-logs'), { recursive: true });
    await mkdir(join(path, 'checkpoints'), { recursive: true });
    await writeFile(join(path, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    return run;
  }

  get checkpointsDir(): string {
    return join(this.path, 'checkpoints');
  }

  async appendMetrics(line: Record<string, unknown>): Promise<void> {
    await appendFile(join(this.path, 'metrics.jsonl'), JSON.stringify(line) + '\n');
  }

  /** Held-out results, one line per evaluation (before training and after it). */
  async appendEvaluation(line: Record<string, unknown>): Promise<void> {
    await appendFile(join(this.path, 'evaluations.jsonl'), JSON.stringify(line) + '\n');
  }

  async writeRollouts(iteration: number, records: unknown[]): Promise<void> {
    await writeFile(join(this.path, 'rollouts', `${iterName(iteration)}.jsonl`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }

  async writeRewardErrors(iteration: number, errors: unknown): Promise<void> {
    await writeFile(join(this.path, 'reward-errors', `${iterName(iteration)}.json`), JSON.stringify(errors, null, 2) + '\n');
  }

  /** What the reward functions printed (ctx.log, console.log), one `<function>: <line>` per line. */
  async writeRewardLogs(iteration: number, logs: readonly { fn: string; line: string }[]): Promise<void> {
    // A run folder from before reward logs had their own folder lacks it.
    await mkdir(join(this.path, 'reward-logs'), { recursive: true });
    await writeFile(join(this.path, 'reward-logs', `${iterName(iteration)}.log`), logs.map((l) => `${l.fn}: ${l.line}\n`).join(''));
  }

  /** A small JSON file at the top of the run folder (adapter.json). */
  async writeJson(name: string, value: unknown): Promise<void> {
    await writeFile(join(this.path, name), JSON.stringify(value, null, 2) + '\n');
  }

  async log(line: string): Promise<void> {
    await appendFile(join(this.path, 'log.txt'), `${new Date().toISOString()} ${line}\n`);
  }

  /**
   * Forgets everything after `iteration`, for a resume from that iteration's checkpoint: the
   * killed run may have logged iterations the checkpoint does not contain.
   */
  async truncateAfter(iteration: number): Promise<void> {
    for (const name of ['metrics.jsonl', 'evaluations.jsonl']) {
      const file = join(this.path, name);
      if (!existsSync(file)) continue;
      const kept = (await readFile(file, 'utf8'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .filter((l) => {
          try {
            return (JSON.parse(l) as { iteration: number }).iteration <= iteration;
          } catch {
            return false; // a line cut off by the kill
          }
        });
      await writeFile(file, kept.map((l) => l + '\n').join(''));
    }
    for (const sub of ['rollouts', 'reward-errors', 'reward-logs']) {
      const dir = join(this.path, sub);
      if (!existsSync(dir)) continue;
      for (const f of await readdir(dir)) {
        const n = Number(/^iter-(\d+)\./.exec(f)?.[1]);
        if (n > iteration) await rm(join(dir, f));
      }
    }
  }
}

export function iterName(iteration: number): string {
  return `iter-${String(iteration).padStart(6, '0')}`;
}
