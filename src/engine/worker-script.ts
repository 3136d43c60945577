// Where a worker's entry point is: a worker thread or child process needs a JavaScript file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { assert } from '../errors';

/**
 * `<name>.js` next to the bundled CLI (scripts/build.mjs writes it); or, when GRPO Studio runs
 * from its TypeScript sources (tests, tsx), `source` (a .ts path) bundled on the spot into
 * `tmpDir`, since a worker does not inherit tsx's loader.
 */
export async function workerScript(name: string, source: string, tmpDir: string): Promise<string> {
  if (!__filename.endsWith('.ts')) {
    const prebuilt = join(__dirname, `${name}.js`);
    assert(existsSync(prebuilt), `${prebuilt} is missing: the build must bundle ${name}.js next to the CLI`);
    return prebuilt;
  }
  const script = join(tmpDir, `${name}.js`);
  // The optional native packages stay out, as in scripts/build.mjs.
  const external = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'esbuild', 'node-llama-cpp'];
  await build({ entryPoints: [source], outfile: script, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent', external });
  return script;
}
