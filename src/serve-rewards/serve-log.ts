// What the reward server tells its operator on stderr: each reload, and each distinct reward
// error once, since a trainer sends the same failing kind of sample thousands of times.
import { formatProblem } from '../rewards/compile';
import type { ReloadReport } from '../rewards/runner';
import type { WireError } from './wire-scores';

/** Past this many distinct errors the log says so once and stops: messages may embed sample text. */
const MAX_DISTINCT_ERRORS = 200;

export class ServeLog {
  private readonly seen = new Set<string>();

  constructor(private readonly write: (line: string) => void) {}

  /** The runner reports a file that stays broken once, so this logs it once. */
  reload(report: ReloadReport): void {
    for (const r of report.reloaded) {
      this.write(
        r.version === r.previous
          ? `${r.file}: back at version ${r.version}, which is in use; its problem is gone`
          : `${r.file}: reloaded, now version ${r.version} (was ${r.previous})`,
      );
    }
    for (const p of report.failed) {
      this.write(`${p.rewardFile}: not reloaded: ${formatProblem(p)}; its last good version keeps scoring until the file is fixed`);
    }
  }

  errors(errors: readonly WireError[]): void {
    for (const e of errors) {
      const key = `${e.function}\0${e.kind}\0${e.message}`;
      if (this.seen.has(key) || this.seen.size > MAX_DISTINCT_ERRORS) continue;
      this.seen.add(key);
      if (this.seen.size > MAX_DISTINCT_ERRORS) {
        this.write(`more than ${MAX_DISTINCT_ERRORS} distinct reward errors; further ones are not logged (each answer still lists its own)`);
        continue;
      }
      const who = e.function === null ? 'request' : `${e.function} (${e.file}) ${e.kind}`;
      this.write(`${who}: ${e.message} (logged once; every answer lists it)${e.stack ? `\n${e.stack}` : ''}`);
    }
  }
}
