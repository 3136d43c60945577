// `grpo train` as a user runs it, start to end: flags in either spelling, the progress table,
// the summary and its resume command, the exit status of a completed, a stopped and a run that
// learnt nothing, and the reward log. A real process on a tiny model.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_SIGNAL_STREAK } from '../src/trainer/run-health';

const CLI = join(__dirname, '..', 'out', 'cli.js');
const BACKEND = process.env.GRPO_TEST_BACKEND ?? 'wasm';
const work = mkdtempSync(join(tmpdir(), 'grpo-cli-train-'));

/** `node out/cli.js ...` in `work`, so relative paths and the printed commands are a user's. */
function grpo(args: string[], env: Record<string, string> = { GRPO_BACKEND: BACKEND }): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `train` with the flags of `iterations` tiny iterations, in the dash spelling. */
const tiny = (iterations: number, reward = 'len.reward.ts') => [
  'train', '--model-path', 'model', '--dataset-path', 'data.jsonl', '--reward', reward, '--num-iterations', String(iterations),
  '--rollout-batch-size', '2', '--group-size', '2', '--max-new-tokens', '4', '--output-dir', 'runs',
];

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const init = grpo(['init-model', '--arch', 'llama', '--out', 'model', '--merges', '16', '--seed', '3']);
  assert.equal(init.code, 0, init.stderr);
  writeFileSync(join(work, 'data.jsonl'), ['ab', 'cd', 'ef', 'gh'].map((prompt) => JSON.stringify({ prompt })).join('\n'));
  writeFileSync(join(work, 'len.reward.ts'), 'export const length = (s: { completion: string }) => s.completion.length;\n');
  writeFileSync(
    join(work, 'broken.reward.ts'),
    'export function broken(s: { completion: string }) {\n  console.log("saw", s.completion.length);\n  throw new Error("not today");\n}\n',
  );
});

test('a completed run ends with a summary whose resume command continues it; underscores and dashes mix', () => {
  const r = grpo([...tiny(4), '--eval_dataset_path', 'data.jsonl', '--eval-every', '2', '--checkpoint_every', '2', '--entropy-coef', '-0.01']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/One line per iteration/g)?.length, 1);
  assert.match(r.stdout, /^ +4\/4 +\d+\.\d{3} ± \d+\.\d{3} /m);
  assert.match(r.stdout, /^completed 4 iterations in \d+s$/m);
  assert.match(r.stdout, /^ {2}held-out reward \d\.\d{3} before training -> \d\.\d{3} after iteration 4 \(4 prompts, greedy\)$/m);
  assert.match(r.stdout, /^ {2}best checkpoint: runs\/[\w-]+\/checkpoints\/iter-00000[24] \(held-out reward \d\.\d{3} at iteration [24], of 2 kept\)$/m);
  const resume = /^ {2}to train further: (node \S+ train --resume (\S+)) --num_iterations N \(N above 4\)$/m.exec(r.stdout);
  assert.ok(resume, `no resume command in:\n${r.stdout}`);
  const config = JSON.parse(readFileSync(join(work, resume[2], 'config.json'), 'utf8'));
  assert.equal(config.entropy_coef, -0.01, 'a negative value reaches the config');
  const [node, script, ...args] = resume[1].split(' ');
  assert.equal(node, 'node');
  const further = spawnSync(process.execPath, [script, ...args, '--num_iterations', '5'], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_BACKEND: BACKEND } });
  assert.equal(further.status, 0, further.stderr);
  assert.match(further.stdout, /resuming after iteration 4/);
  assert.match(further.stdout, /^completed 5 iterations in /m);
});

test(`rewards that fail on every sample for ${NO_SIGNAL_STREAK} iterations warn loudly, and the run exits 3; what they print goes to reward-logs/`, () => {
  const r = grpo(tiny(NO_SIGNAL_STREAK + 1, 'broken.reward.ts'));
  assert.equal(r.code, 3, r.stderr);
  const warning = r.stdout.indexOf(`!! no learning signal in iterations 1-${NO_SIGNAL_STREAK}: no reward function gave any completion a value`);
  assert.ok(warning > r.stdout.indexOf(` ${NO_SIGNAL_STREAK}/${NO_SIGNAL_STREAK + 1} `), 'after the iteration that completes the streak');
  assert.ok(warning < r.stdout.indexOf(` ${NO_SIGNAL_STREAK + 1}/${NO_SIGNAL_STREAK + 1} `), 'and before the next');
  assert.match(r.stdout, new RegExp(`^ {2}no learning signal in iterations 1-${NO_SIGNAL_STREAK}: see the warning above$`, 'm'));
  const runDir = join(work, /^run (.+)$/m.exec(r.stdout)![1].split(work + '/')[1]);
  const logs = readFileSync(join(runDir, 'reward-logs', 'iter-000001.log'), 'utf8').trim().split('\n');
  assert.equal(logs.length, 4, 'one console.log per completion');
  assert.ok(logs.every((l) => /^broken: saw \d+$/.test(l)), logs.join('\n'));
  const errors = JSON.parse(readFileSync(join(runDir, 'reward-errors', 'iter-000001.json'), 'utf8'));
  assert.deepEqual(Object.keys(errors), ['failed'], 'reward-errors/ holds the failures only');
  assert.match(JSON.stringify(errors.failed), /not today/);
  assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /no-learning-signal: no learning signal in iterations 1-5/);
});

test('Ctrl-C stops after the iteration with exit 4, and the printed command continues the run to the end', async () => {
  const child = spawn(process.execPath, [CLI, ...tiny(400)], { cwd: work, env: { ...process.env, GRPO_BACKEND: BACKEND } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/^ +3\/400 /m.test(stdout) && child.signalCode === null && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 4, stdout);
  assert.match(stdout, /^stopped after iteration \d+ of 400 /m);
  const resume = /^ {2}to continue: node \S+ train --resume (\S+)$/m.exec(stdout);
  assert.ok(resume, stdout);
  const rest = grpo(['train', '--resume', resume[1], '--num-iterations', '6']);
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(rest.stdout, /^completed 6 iterations in /m);
});

test('flag values are checked by their setting\'s rule and named as flags; GRPO_BACKEND picks the backend of an "auto" run', () => {
  const bad = grpo([...tiny(2), '--kl_coef', '-1']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), 'grpo train: --kl_coef must be a number >= 0, got "-1"');
  const group = grpo(['train', '--model-path', 'model', '--dataset-path', 'data.jsonl', '--reward', 'len.reward.ts', '--group-size', '1']);
  assert.match(group.stderr.trim(), /^grpo train: --group_size must be an integer >= 2, got "1" \(an advantage compares/);
  const across = grpo([...tiny(2), '--minibatch_size', '3']);
  assert.match(across.stderr.trim(), /^grpo train: the flags \(--model_path, .*\): minibatch_size 3 does not divide the 4 completions/);
  const missing = grpo([...tiny(2), '--eval-dataset-path', 'heldout.jsonl']);
  assert.equal(missing.stderr.trim(), `grpo train: --eval_dataset_path heldout.jsonl: not found (looked at ${join(work, 'heldout.jsonl')})`);
  const misspelt = grpo([...tiny(2), '--learnig-rate', '1e-4']);
  assert.equal(misspelt.stderr.trim(), 'grpo train: unknown flag --learnig-rate; did you mean --learning_rate? (see grpo train --help)');

  const cpu = grpo(tiny(1), { GRPO_BACKEND: 'cpu' });
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.match(cpu.stdout, /backend cpu: /);
  assert.doesNotMatch(cpu.stdout + cpu.stderr, /looks like you are running TensorFlow\.js in Node/, "TF.js's banner is silenced");
  assert.ok(readdirSync(join(work, 'runs')).length > 0);
});
