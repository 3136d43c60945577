import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'out', 'cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bundled `grpo` command (built by `npm run build`, which `npm test` runs first). */
export function grpo(...args: string[]): CliResult {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, GRPO_BACKEND: process.env.GRPO_TEST_BACKEND ?? 'wasm' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
