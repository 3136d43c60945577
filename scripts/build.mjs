// Bundles the `grpo` command line, the trainer process, the reward worker, the VS Code extension
// and the dashboard webview with esbuild.
// Type-checking is a separate step (`npm run typecheck`), as esbuild only strips types.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const outdir = join(root, 'out');
mkdirSync(outdir, { recursive: true });

// Optional native backends: loaded at run time only where the user has installed them.
// esbuild compiles user reward files at run time and must find its own binary.
const runtimeExternals = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'esbuild', 'node-llama-cpp', 'webgpu'];
const nodeBundle = { outdir, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

// Every output goes to a temporary name and is renamed into place, so whatever runs out/ while a
// build rewrites it (a test spawning out/cli.js during `npm run package`) reads the old file or
// the new one, never half of one.
function replaceFile(file, write) {
  const tmp = `${file}.${process.pid}.tmp`;
  write(tmp);
  renameSync(tmp, file);
}

async function bundle(options) {
  const result = await build({ ...options, write: false });
  for (const f of result.outputFiles) replaceFile(f.path, (tmp) => writeFileSync(tmp, f.contents));
}

await bundle({
  ...nodeBundle,
  // The reward worker runs user code in child processes and the update worker is a second TF.js
  // on the other core; each is its own entry point. The trainer
  // process is the child the extension forks to train in.
  entryPoints: {
    cli: join(root, 'src/cli/main.ts'),
    'reward-worker': join(root, 'src/rewards/worker.ts'),
    'update-worker': join(root, 'src/trainer/update-worker-main.ts'),
    'trainer-process': join(root, 'src/trainer-process/main.ts'),
  },
  external: runtimeExternals,
});

// The VS Code extension host: `vscode` is provided by the editor at run time.
await bundle({
  ...nodeBundle,
  entryPoints: { extension: join(root, 'src/extension/extension.ts') },
  external: ['vscode', ...runtimeExternals],
});

// The dashboard webview: a browser bundle (out/webview.js, with its styles as out/webview.css).
await bundle({
  entryPoints: { webview: join(root, 'webview/main.ts') },
  outdir,
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The wasm backend loads its .wasm binaries from next to the running script.
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const f of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) {
  replaceFile(join(outdir, f), (tmp) => copyFileSync(join(wasmDist, f), tmp));
}

// The JSON Schema of grpo.config.json, from the one declaration of the settings, for
// editors ("$schema" in a config, and the extension's jsonValidation).
const schema = execFileSync(process.execPath, [join(outdir, 'cli.js'), 'schema']);
replaceFile(join(outdir, 'grpo.config.schema.json'), (tmp) => writeFileSync(tmp, schema));
