// The `grpo` command as a user runs it: a real process, real model folders on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpo } from './helpers/cli';

const fixtures = join(__dirname, 'fixtures', 'models');
const work = mkdtempSync(join(tmpdir(), 'grpo-cli-'));

/** Exit 1 and one line of error (besides the line saying which backend runs), without a stack. */
function assertOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend '));
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(lines[0], /^grpo: grpo /, 'the command is named once');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a user error must not print a stack trace');
}

test('score --ids --json prints the golden log-probabilities of a fixture model', () => {
  const golden = JSON.parse(readFileSync(join(fixtures, 'qwen2-gqa-bias', 'golden.json'), 'utf8'));
  const ids: number[] = golden.ids[1];
  const r = grpo('score', '--model', join(fixtures, 'qwen2-gqa-bias'), '--ids', ids.join(','), '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.ids, ids);
  assert.equal(out.logprobs[0], null);
  out.logprobs.slice(1).forEach((lp: number, i: number) => assert.ok(Math.abs(lp - golden.logprobs[1][i + 1]) < 1e-4));
});

for (const arch of ['llama', 'qwen2', 'mistral']) {
  test(`init-model --arch ${arch} writes a folder that generate and score use`, () => {
    const dir = join(work, arch);
    const init = grpo('init-model', '--arch', arch, '--out', dir, '--merges', '64', '--seed', '3');
    assert.equal(init.code, 0, init.stderr);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, arch);

    const gen = (...extra: string[]) => grpo('generate', '--model', dir, '--prompt', 'The cat', '--prompt', '12+3=', '--n', '3', '--max-new-tokens', '6', '--json', ...extra);
    const a = gen('--seed', '1');
    assert.equal(a.code, 0, a.stderr);
    const out = JSON.parse(a.stdout);
    assert.equal(out.results.length, 2);
    for (const r of out.results) {
      assert.equal(r.completions.length, 3);
      for (const c of r.completions) assert.ok(c.ids.length >= 1 && c.ids.length <= 6);
    }
    assert.deepEqual(JSON.parse(gen('--seed', '1').stdout).results, out.results, 'same seed, same samples');

    const text = grpo('score', '--model', dir, '--text', 'The cat sat.', '--json');
    assert.equal(text.code, 0, text.stderr);
    const scored = JSON.parse(text.stdout);
    assert.ok(scored.ids.length > 1);
    assert.ok(scored.logprobs.slice(1).every((x: number) => Number.isFinite(x) && x < 0));
  });
}

test('user errors print one clear line and exit 1', () => {
  const bad = join(work, 'bad-type');
  cpSync(join(fixtures, 'llama-tied'), bad, { recursive: true });
  const config = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt2' }));
  assertOneLineError(grpo('score', '--model', bad, '--ids', '1,2'), /config\.json: model_type "gpt2" is not supported; supported: llama, qwen2, mistral/);

  assertOneLineError(grpo('score', '--model', join(work, 'nowhere'), '--ids', '1'), /--model .*nowhere: folder not found/);
  assertOneLineError(grpo('score', '--model', join(fixtures, 'llama-tied'), '--ids', '1,x'), /--ids must be comma-separated token ids/);
  assertOneLineError(grpo('score', '--model', join(fixtures, 'llama-tied'), '--ids', '1,5000'), /token id 5000 is outside the vocabulary/);
  assertOneLineError(grpo('score', '--model', join(fixtures, 'llama-tied'), '--text', 'hi'), /tokenizer\.json: not found/);
  assertOneLineError(grpo('generate', '--model', join(fixtures, 'llama-tied'), '--prompt', 'x', '--top-p', '2'), /--top-p must be in 0\.\.1/);
  assertOneLineError(grpo('generate', '--bogus'), /^grpo generate: unknown flag --bogus \(see grpo generate --help\)$/);
  assertOneLineError(grpo('init-model', '--arch', 'gpt2', '--out', join(work, 'x')), /--arch must be one of llama, qwen2, mistral/);

  const truncated = join(work, 'truncated');
  cpSync(join(fixtures, 'llama-tied'), truncated, { recursive: true });
  const weights = readFileSync(join(truncated, 'model.safetensors'));
  writeFileSync(join(truncated, 'model.safetensors'), weights.subarray(0, weights.length - 100));
  const r = grpo('score', '--model', truncated, '--ids', '1,2');
  assertOneLineError(r, /model\.safetensors/);
});

test('eval prints the mean of each reward over a dataset; greedy is deterministic', () => {
  const dir = join(work, 'eval');
  assert.equal(grpo('init-model', '--arch', 'llama', '--out', join(dir, 'model'), '--merges', '16').code, 0);
  writeFileSync(join(dir, 'data.jsonl'), ['ab', 'cd', 'ef'].map((p) => JSON.stringify({ prompt: p, target: 4 })).join('\n'));
  writeFileSync(
    join(dir, 'len.reward.ts'),
    'export function length(s: { completion: string }) { return s.completion.length; }\n' +
      'export function hitsTarget(s: { completionIds: readonly number[]; row: { target: number } }) { return s.completionIds.length === s.row.target ? 1 : 0; }\n',
  );
  const run = () => grpo('eval', '--model', join(dir, 'model'), '--dataset', join(dir, 'data.jsonl'), '--reward', join(dir, 'len.reward.ts'), '--greedy', '--max-new-tokens', '4', '--json');
  const a = run();
  assert.equal(a.code, 0, a.stderr);
  const out = JSON.parse(a.stdout);
  assert.equal(out.prompts, 3);
  assert.equal(out.rewards.hitsTarget, 1, 'every greedy completion runs to 4 tokens');
  assert.ok(out.rewards.length > 0);
  assert.deepEqual(out.failures, { length: 0, hitsTarget: 0 });
  assert.deepEqual(JSON.parse(run().stdout), out);
});

test('a trainer killed mid-run leaves its checkpoints intact, and --resume finishes the run', async () => {
  const dir = join(work, 'kill');
  assert.equal(grpo('init-model', '--arch', 'llama', '--out', join(dir, 'model'), '--merges', '16').code, 0);
  writeFileSync(join(dir, 'data.jsonl'), ['ab', 'cd', 'ef', 'gh'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(dir, 'len.reward.ts'), 'export const length = (s: { completion: string }) => s.completion.length;\n');
  writeFileSync(
    join(dir, 'grpo.config.json'),
    JSON.stringify({
      model_path: 'model',
      dataset_path: 'data.jsonl',
      rewards: [{ file: 'len.reward.ts' }],
      output_dir: 'runs',
      num_iterations: 400,
      rollout_batch_size: 2,
      group_size: 2,
      minibatch_size: 4,
      max_new_tokens: 4,
      checkpoint_every: 1,
      keep_checkpoints: 2,
    }),
  );
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(__dirname, '..', 'out', 'cli.js'), 'train', '--config', join(dir, 'grpo.config.json')], {
    env: { ...process.env, GRPO_BACKEND: process.env.GRPO_TEST_BACKEND ?? 'wasm' },
  });
  let output = '';
  await new Promise<void>((resolveKill) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      // Killed without warning while later checkpoints are being written.
      if ((output.match(/checkpoint /g) ?? []).length >= 3 && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolveKill());
  });
  const runDir = /^run (.+)$/m.exec(output)![1];
  // A run may continue with another memory budget (as after running out of memory), nothing else.
  const resumed = grpo('train', '--resume', runDir, '--num_iterations', '6', '--memory_budget_mb', '1500');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming after iteration \d+/);
  assert.match(resumed.stdout, /^completed 6 iterations in /m);
  const iterations = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).iteration);
  assert.deepEqual(iterations, [1, 2, 3, 4, 5, 6]);
});

test('the flags of earlier GRPO scripts train without a config file', () => {
  const dir = join(work, 'legacy');
  assert.equal(grpo('init-model', '--arch', 'qwen2', '--out', join(dir, 'model'), '--merges', '16').code, 0);
  writeFileSync(join(dir, 'data.jsonl'), ['ab', 'cd', 'ef'].map((p) => JSON.stringify({ prompt: p })).join('\n'));
  writeFileSync(join(dir, 'len.reward.ts'), 'export const length = (s: { completion: string }) => s.completion.length;\n');
  const r = grpo(
    'train', '--model_path', join(dir, 'model'), '--dataset_path', join(dir, 'data.jsonl'), '--reward', join(dir, 'len.reward.ts'),
    '--num_iterations', '2', '--rollout_batch_size', '3', '--group_size', '2', '--learning_rate', '1e-4', '--kl_coef', '0.1', '--max_new_tokens', '4',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ +2\/2 +\d+\.\d{3} ± \d+\.\d{3} /m);
  assert.match(r.stdout, /^completed 2 iterations in /m);
  const bad = grpo('train', '--model_path', join(dir, 'model'), '--dataset_path', join(dir, 'data.jsonl'), '--reward', join(dir, 'len.reward.ts'), '--group_size', '1');
  assertOneLineError(bad, /group_size/);
});

test('grpo alone prints the commands and exits 2; a misspelt command gets the closest one', () => {
  const none = grpo();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^grpo: give a command\nusage: grpo <command> \[flags\]\n/);
  for (const name of ['train', 'sft', 'eval', 'rescore', 'generate', 'score', 'init-model', 'schema', 'bench']) assert.match(none.stderr, new RegExp(`^ {2}${name} `, 'm'));
  const typo = grpo('trian');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^grpo: unknown command "trian"; did you mean "train"\?\n/);
  const help = grpo('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: grpo/);
});

test('bin/grpo.js before a build says to build, in one line', () => {
  const fresh = join(work, 'fresh-clone');
  cpSync(join(__dirname, '..', 'bin'), join(fresh, 'bin'), { recursive: true });
  const r = spawnSync(process.execPath, [join(fresh, 'bin', 'grpo.js'), 'train'], { cwd: fresh, encoding: 'utf8' });
  assertOneLineError({ code: r.status ?? -1, stderr: r.stderr }, /^grpo: out\/cli\.js is not built yet; run `npm run build` in \. first \(after `npm ci`\)$/);
});

test('init-model and sft write only into a new or empty folder unless --force', () => {
  const file = join(work, 'a-file');
  writeFileSync(file, 'x');
  assertOneLineError(grpo('init-model', '--arch', 'llama', '--out', file), /^grpo init-model: --out .*a-file is a file; give a folder path/);
  const taken = join(work, 'taken');
  assert.equal(grpo('init-model', '--arch', 'llama', '--out', taken, '--merges', '8').code, 0);
  assertOneLineError(grpo('init-model', '--arch', 'llama', '--out', taken), /^grpo init-model: --out .*taken is not empty; choose a new folder, or pass --force/);
  assert.equal(grpo('init-model', '--arch', 'llama', '--out', taken, '--merges', '8', '--force').code, 0);

  writeFileSync(join(work, 'pairs.jsonl'), JSON.stringify({ prompt: 'a', answer: 'b' }) + '\n');
  const sft = (...extra: string[]) => grpo('sft', '--model', taken, '--dataset', join(work, 'pairs.jsonl'), '--epochs', '1', '--learning_rate', '1e-3', ...extra);
  assertOneLineError(sft('--out', taken), /^grpo sft: --out .*taken is not empty; choose a new folder, or pass --force/);
  const trained = sft('--out', join(work, 'sft-new'));
  assert.equal(trained.code, 0, trained.stderr);
  assert.ok(existsSync(join(work, 'sft-new', 'model.safetensors')));
});

test('every model command says which backend runs and why, on stderr, and the cpu backend prints no TF.js banner', () => {
  const model = join(fixtures, 'llama-tied');
  for (const backend of ['wasm', 'cpu']) {
    const r = grpo('score', '--model', model, '--ids', '1,2,3', '--json', '--backend', backend);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).backend, backend, 'stdout stays one JSON object');
    assert.equal(r.stderr, `backend ${backend}: forced by --backend\n`);
  }
  const auto = grpo('generate', '--model', join(work, 'llama'), '--prompt', 'x', '--max-new-tokens', '2', '--backend', 'auto');
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, /^backend (wasm|tensorflow|cpu): .+\n/);
});

test('a damaged run snapshot or a config path that is a folder is one line, not a stack trace', () => {
  const run = join(work, 'damaged-run');
  cpSync(join(fixtures, 'llama-tied'), join(run, 'model'), { recursive: true });
  writeFileSync(join(run, 'config.json'), '{ "model_path": ');
  assertOneLineError(grpo('train', '--resume', run), /config\.json: not valid JSON .*cannot be resumed/);
  assertOneLineError(grpo('train', '--config', work), /cannot read the training settings/);
  assertOneLineError(grpo('train', '--resume', run, '--learning_rate', '1'), /--resume continues a run with its own settings; only --num_iterations, --memory_budget_mb, --backend may change \(got --learning_rate\)/);
});
