// Runs a setup command in the foreground, its output shown, and fails with the command line.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    const where = options.cwd ? ` (in ${String(options.cwd)})` : '';
    throw new Error(`e2e setup: \`${[cmd, ...args].join(' ')}\`${where} failed with ${r.error?.message ?? `exit code ${r.status}`}`);
  }
}
