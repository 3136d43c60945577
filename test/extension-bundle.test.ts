// The extension host never computes tensors (docs/DESIGN.md, process model): what it bundles
// must not reach TF.js, the model or the engine, even where it borrows a type or a formatter from the
// trainer (the adapter line, checkpoint file names). Nor may it reach the reward compiler, runner
// or worker: in Restricted Mode the host cannot run reward code itself, whatever calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';

test('the extension bundle holds no TF.js, nor the model and engine that run on it, nor the reward compiler, runner or worker', async () => {
  const root = join(__dirname, '..');
  const result = await build({
    entryPoints: [join(root, 'src/extension/extension.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    outdir: join(root, 'out'), // not written: esbuild needs it only to name the outputs
    external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'esbuild'],
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('src/trainer/adapter-info.ts'), 'the adapter line comes from the trainer\'s formatter');
  assert.deepEqual(inputs.filter((f) => f.includes('@tensorflow') || f.startsWith('src/model/causal-lm') || f.startsWith('src/engine/')), []);
  assert.deepEqual(inputs.filter((f) => /^src\/(rewards\/(compile|runner|worker|worker-slot|worker-script)|rescore\/rescore|trainer\/trainer)\.ts$/.test(f)), []);
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.ok(!imports.includes('esbuild'), 'esbuild (which compiles reward files) is not loaded by the extension host');
});
