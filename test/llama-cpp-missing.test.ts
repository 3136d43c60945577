// Where node-llama-cpp is not installed (the VS Code package; an install that skipped optional
// dependencies), the bundled CLI still runs: an explicit llama.cpp is refused with the reason
// and the fix, in `grpo bench` and in `grpo train`. The CLI runs from a folder holding only
// the bundles and esbuild, as the extension package lays them out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demo, writeDemoConfig } from './helpers/demo-run';

const out = join(__dirname, '..', 'out');
const modules = join(__dirname, '..', 'node_modules');
let bare: string;

before(() => {
  bare = mkdtempSync(join(tmpdir(), 'grpo-no-llama-'));
  for (const f of readdirSync(out).filter((f) => /^(cli|reward-worker|update-worker)\.js$|\.wasm$/.test(f))) copyFileSync(join(out, f), join(bare, f));
  mkdirSync(join(bare, 'node_modules', '@esbuild'), { recursive: true });
  symlinkSync(join(modules, 'esbuild'), join(bare, 'node_modules', 'esbuild'));
  for (const p of readdirSync(join(modules, '@esbuild'))) symlinkSync(join(modules, '@esbuild', p), join(bare, 'node_modules', '@esbuild', p));
});
after(() => rmSync(bare, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [join(bare, 'cli.js'), ...args], { encoding: 'utf8', cwd: bare, env: { ...process.env, GRPO_BACKEND: 'wasm' } });

test('grpo bench --rollout-engine llama.cpp without node-llama-cpp: exit 1 with the reason', () => {
  const r = run('bench', '--model', join(demo, 'model'), '--prompts', '1', '--group', '2', '--prompt-tokens', '4', '--new-tokens', '2', '--rollout-engine', 'llama.cpp', '--json');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--rollout-engine llama\.cpp: node-llama-cpp is not installed next to GRPO Studio/);
});

test('grpo train with rollout_engine "llama.cpp" without node-llama-cpp: refused before training, naming the field and the fix', () => {
  const work = mkdtempSync(join(tmpdir(), 'grpo-no-llama-run-'));
  try {
    const r = run('train', '--config', writeDemoConfig(work, { rollout_engine: 'llama.cpp' }));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /rollout_engine "llama\.cpp" in the config cannot be used: node-llama-cpp is not installed next to GRPO Studio.*Set "rollout_engine": "auto"/s);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
