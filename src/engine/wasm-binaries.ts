// The wasm backend reads its .wasm binary from disk when it starts. In the bundle, build.mjs
// copies the binaries next to out/cli.js; run from src/ (tsx, tests) they are in the package.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

// Node has no wasm threads (DESIGN.md), so only these two builds can be picked.
const BINARIES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

let located: string | undefined;

/** Points the wasm backend at the folder holding its binaries; call before tf.setBackend('wasm'). */
export function locateWasmBinaries(): { ok: true; dir: string } | { ok: false; error: string } {
  if (located) return { ok: true, dir: located };
  const candidates = [__dirname, packageDist()].filter((d): d is string => d !== undefined);
  const dir = candidates.find((d) => BINARIES.every((f) => existsSync(join(d, f))));
  if (!dir) {
    return { ok: false, error: `${BINARIES.join(' and ')} not found in ${candidates.join(' or ')}; run npm run build` };
  }
  setWasmPaths(dir + sep);
  located = dir;
  return { ok: true, dir };
}

function packageDist(): string | undefined {
  try {
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  } catch {
    return undefined;
  }
}

/** Where the binaries are, as the process that started this worker thread found them. */
export function useWasmBinariesFrom(dir: string): void {
  setWasmPaths(dir + sep);
  located = dir;
}
