// Where the reward worker's entry point is: a worker thread needs a JavaScript file on disk.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { assert } from '../errors';

/**
 * `reward-worker.js` next to the bundled CLI; or, when GRPO Studio runs from its TypeScript
 * sources (tests, tsx), worker.ts bundled on the spot into `tmpDir`, since a worker thread
 * does not inherit tsx's loader.
 */
export async function rewardWorkerScript(tmpDir: string): Promise<string> {
  if (!__filename.endsWith('.ts')) {
    const prebuilt = join(__dirname, 'reward-worker.js');
    assert(existsSync(prebuilt), `${prebuilt} is missing: the build must bundle src/rewards/worker.ts as reward-worker.js next to the CLI`);
    return prebuilt;
  }
  const script = join(tmpDir, 'reward-worker.js');
  await build({
    entryPoints: [join(__dirname, 'worker.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  return script;
}
