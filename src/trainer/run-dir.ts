import { appendFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runWriteError } from './disk-errors';

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
    try {
      await mkdir(outputDir, { recursive: true });
      await mkdir(path); // not recursive: that reports a read-only folder as ENOENT
      for (const sub of ['rollouts', 'reward-errors', 'reward-logs', 'checkpoints']) await mkdir(join(path, sub));
      await writeFile(join(path, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    } catch (e) {
      throw runWriteError(e, path, 'the run did not start');
    }
    return run;
  }

  get checkpointsDir(): string {
    return join(this.path, 'checkpoints');
  }

  async appendMetrics(line: Record<string, unknown>): Promise<void> {
    await this.write(join(this.path, 'metrics.jsonl'), (f) => appendFile(f, JSON.stringify(line) + '\n'));
  }

  /** Held-out results, one line per evaluation (before training and after it). */
  async appendEvaluation(line: Record<string, unknown>): Promise<void> {
    await this.write(join(this.path, 'evaluations.jsonl'), (f) => appendFile(f, JSON.stringify(line) + '\n'));
  }

  /** Written whole or not at all: the dashboard reads these while the run goes on. */
  async writeRollouts(iteration: number, records: unknown[]): Promise<void> {
    await this.write(join(this.path, 'rollouts', `${iterName(iteration)}.jsonl`), (f) => replaceFile(f, records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  }

  async writeRewardErrors(iteration: number, errors: unknown): Promise<void> {
    await this.write(join(this.path, 'reward-errors', `${iterName(iteration)}.json`), (f) => replaceFile(f, JSON.stringify(errors, null, 2) + '\n'));
  }

  /** What the reward functions printed (ctx.log, console.log), one `<function>: <line>` per line. */
  async writeRewardLogs(iteration: number, logs: readonly { fn: string; line: string }[]): Promise<void> {
    // A run folder from before reward logs had their own folder lacks it.
    await mkdir(join(this.path, 'reward-logs'), { recursive: true });
    await this.write(join(this.path, 'reward-logs', `${iterName(iteration)}.log`), (f) => replaceFile(f, logs.map((l) => `${l.fn}: ${l.line}\n`).join('')));
  }

  /** A small JSON file at the top of the run folder (adapter.json). */
  async writeJson(name: string, value: unknown): Promise<void> {
    await this.write(join(this.path, name), (f) => replaceFile(f, JSON.stringify(value, null, 2) + '\n'));
  }

  /** Runs `write` on `file`; a refusal of the disk becomes a message with the path and the fix. */
  private async write(file: string, write: (file: string) => Promise<void>): Promise<void> {
    try {
      await write(file);
    } catch (e) {
      throw runWriteError(e, file, "the run's newest checkpoint is intact and the run can resume from it");
    }
  }

  async log(line: string): Promise<void> {
    await this.write(join(this.path, 'log.txt'), (f) => appendFile(f, `${new Date().toISOString()} ${line}\n`));
  }

  /**
   * Forgets everything after `iteration`, for a resume from that iteration's checkpoint: the
   * killed run may have logged iterations the checkpoint does not contain, a line cut off by
   * the kill, and temporary files of a write it did not finish. Each file is replaced whole,
   * so a kill during the resume itself loses nothing.
   */
  async truncateAfter(iteration: number): Promise<void> {
    for (const name of ['metrics.jsonl', 'evaluations.jsonl']) {
      const file = join(this.path, name);
      if (!existsSync(file)) continue;
      const text = await readFile(file, 'utf8');
      const kept = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .filter((l) => {
          try {
            return (JSON.parse(l) as { iteration: number }).iteration <= iteration;
          } catch {
            return false; // a line cut off by the kill
          }
        });
      const after = kept.map((l) => l + '\n').join('');
      if (after !== text) await this.write(file, (f) => replaceFile(f, after));
    }
    for (const sub of ['rollouts', 'reward-errors', 'reward-logs']) {
      const dir = join(this.path, sub);
      if (!existsSync(dir)) continue;
      for (const f of await readdir(dir)) {
        const n = Number(/^iter-(\d+)\./.exec(f)?.[1]);
        if (n > iteration || f.startsWith(TEMPORARY)) await rm(join(dir, f));
      }
    }
    for (const f of await readdir(this.path)) if (f.startsWith(TEMPORARY)) await rm(join(this.path, f));
  }
}

/** Prefix of a file being written; no reader of the run folder lists such names. */
const TEMPORARY = '.tmp-';

/** Replaces `file` with `text` in one rename, so a reader or a kill never sees half of it. */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `${TEMPORARY}${process.pid}-${basename(file)}`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function iterName(iteration: number): string {
  return `iter-${String(iteration).padStart(6, '0')}`;
}
