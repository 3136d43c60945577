// "engine": "trl" as a user runs it: `grpo train` starts TRL's GRPOTrainer in a real Python
// (the virtual environment .ci/run makes) on the bundled demo, with TypeScript rewards that
// are scored here, hot-reloaded and allowed to fail; the run folder it writes; Ctrl-C with a
// checkpoint and an exact resume; a LoRA run with a KL term; and every setting TRL cannot
// honour refused by name before anything starts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trlPython } from './helpers/trl-python';
import { EXIT } from '../src/cli/exit-codes';
import { modelFiles } from '../src/extension/export/export-checkpoint';
import { parseTrainingConfig } from '../src/trainer/config';
import { stepsPerIteration, trlGrpoConfig } from '../src/trl/grpo-config';

const CLI = join(__dirname, '..', 'out', 'cli.js');
const DEMO = join(__dirname, '..', 'examples', 'demo');
const { python, reason } = trlPython('peft');
const skip = python ? false : reason;
const work = mkdtempSync(join(tmpdir(), 'grpo-trl-engine-'));

interface Metrics {
  iteration: number;
  [name: string]: unknown;
}

/** The demo's settings, small: 8 prompts x 8 completions, 2 optimizer steps per iteration. */
function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(work, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      engine: 'trl',
      model_path: join(DEMO, 'model'),
      dataset_path: join(DEMO, 'train.jsonl'),
      eval_dataset_path: join(work, 'heldout.jsonl'),
      rewards: [{ file: 'exact.reward.ts' }],
      output_dir: join(work, 'runs', name),
      rollout_batch_size: 8,
      group_size: 8,
      minibatch_size: 32,
      max_new_tokens: 5,
      learning_rate: 1e-4,
      kl_coef: 0,
      seed: 7,
      ...extra,
    }),
  );
  return file;
}

function grpo(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, GRPO_PYTHON: python ?? '', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const runOf = (name: string) => {
  const dir = join(work, 'runs', name);
  const runs = readdirSync(dir);
  assert.equal(runs.length, 1, `one run in ${dir}`);
  return join(dir, runs[0]);
};
const jsonl = <T>(file: string): T[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  writeFileSync(join(work, 'heldout.jsonl'), readFileSync(join(DEMO, 'heldout.jsonl'), 'utf8').trim().split('\n').slice(0, 32).join('\n') + '\n');
  cpSync(join(DEMO, '..', 'rewards', 'lib'), join(work, 'lib'), { recursive: true });
  writeFileSync(join(work, 'exact.reward.ts'), readFileSync(join(DEMO, '..', 'rewards', 'exact-answer.reward.ts'), 'utf8'));
});

test('every grpo.config.json field TRL cannot honour is refused by name; the batch maps to TRL steps', () => {
  const base = { engine: 'trl', model_path: 'm', dataset_path: 'd.jsonl', rewards: [{ file: 'r.ts' }], rollout_batch_size: 4, group_size: 8, minibatch_size: 16, ppo_epochs: 2, num_iterations: 5 };
  const c = parseTrainingConfig(base, 'grpo.config.json');
  const trl = trlGrpoConfig(c, 'grpo.config.json', '/run/checkpoints', [1]);
  assert.equal(stepsPerIteration(c), 4);
  assert.deepEqual(
    [trl.num_generations, trl.per_device_train_batch_size, trl.steps_per_generation, trl.num_iterations, trl.max_steps, trl.logging_steps],
    [8, 16, 2, 2, 20, 4],
  );
  for (const [field, value] of [['backend', 'wasm'], ['memory_budget_mb', 512], ['update_threads', 2], ['rollout_engine', 'llama.cpp'], ['max_consecutive_nonfinite', 5]] as const) {
    const bad = parseTrainingConfig({ ...base, [field]: value }, 'grpo.config.json');
    assert.throws(() => trlGrpoConfig(bad, 'grpo.config.json', '/x', [1]), (e: Error) => e.message.startsWith(`grpo.config.json: "${field}" cannot be honoured with "engine": "trl"`) && e.message.includes('"engine": "tfjs"'), field);
  }
  const ema = trlGrpoConfig(parseTrainingConfig({ ...base, kl_coef: 0.04, reference_mode: 'ema', ema_alpha: 0.1 }, 'f'), 'f', '/x', [1]);
  assert.deepEqual([ema.sync_ref_model, ema.ref_model_mixup_alpha, ema.ref_model_sync_steps], [true, 0.1, 4]);
  // A LoRA run's moving reference is moved by python/grpo_trl/reference.py, not TRL (which refuses it).
  const loraEma = trlGrpoConfig(parseTrainingConfig({ ...base, kl_coef: 0.04, reference_mode: 'ema', lora: {} }, 'f'), 'f', '/x', [1]);
  assert.equal(loraEma.sync_ref_model, false);
  // gradient_checkpointing: auto leaves TRL its own default (true); true and false are passed on.
  assert.equal('gradient_checkpointing' in trl, false);
  assert.equal(trlGrpoConfig(parseTrainingConfig({ ...base, gradient_checkpointing: false }, 'f'), 'f', '/x', [1]).gradient_checkpointing, false);
  const masked = parseTrainingConfig({ ...base, stop: ['\n'], mask_truncated_completions: true }, 'grpo.config.json');
  assert.throws(() => trlGrpoConfig(masked, 'grpo.config.json', '/x', [1]), /"stop" with "mask_truncated_completions": true cannot be honoured with "engine": "trl": TRL counts a completion as finished only at EOS/);
});

test('without a Python that has TRL, the trl engine says which Python it tried and how to fix it', () => {
  const r = grpo(['train', '--config', writeConfig('nopython'), '--num_iterations', '1'], { GRPO_PYTHON: join(work, 'no-such-python') });
  assert.equal(r.code, EXIT.error);
  assert.match(r.stderr, /the trl engine cannot start Python ".*no-such-python" \(no such executable\); set GRPO_PYTHON/);
});

test('a Python without TRL is named with what it lacks and the command that installs it', { skip: existsSync('/usr/bin/python3') ? false : 'no /usr/bin/python3' }, (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import trl'], { encoding: 'utf8' });
  if (probe.status === 0) return t.skip("this machine's own Python has TRL: nothing to refuse");
  const r = grpo(['train', '--config', writeConfig('notrl'), '--num_iterations', '1'], { GRPO_PYTHON: '/usr/bin/python3' });
  assert.equal(r.code, EXIT.error);
  assert.match(r.stderr, /the trl engine needs trl.* in \/usr\/bin\/python3 \(not installed there\); run \/usr\/bin\/python3 -m pip install trl peft/);
});

test('a trainer killed outright takes its TRL process with it, and the run resumes from its last checkpoint', { skip, timeout: 300_000 }, async () => {
  const config = writeConfig('killed', { num_iterations: 30, checkpoint_every: 2 });
  const child = spawn(process.execPath, [CLI, 'train', '--config', config], { cwd: work, env: { ...process.env, GRPO_PYTHON: python! } });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/^\s+5\/30 /m.test(stdout) && child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise((r) => child.on('exit', r));
  const run = runOf('killed');
  const spec = readdirSync(tmpdir()).filter((f) => f.startsWith(`grpo-trl-${child.pid}-`));
  // The Python process notices its parent is gone within a few seconds (bridge.py).
  const alive = async () => spawnSync('pgrep', ['-f', `grpo_trl ${join(tmpdir(), spec[0] ?? 'none')}`]).status === 0;
  for (let i = 0; i < 20 && (await alive()); i++) await new Promise((r) => setTimeout(r, 500));
  assert.equal(await alive(), false, 'the TRL process ended with its trainer');
  const resumed = grpo(['train', '--resume', run, '--num_iterations', '8']);
  assert.equal(resumed.code, EXIT.ok, resumed.stderr);
  const iterations = jsonl<Metrics>(join(run, 'metrics.jsonl')).map((m) => m.iteration);
  assert.deepEqual(iterations, [1, 2, 3, 4, 5, 6, 7, 8], 'lines past the checkpoint were dropped and written again');
});

test('a trl run from the CLI: TRL trains on the demo, the TypeScript rewards score it and are hot-reloaded, the run folder is ours', { skip, timeout: 300_000 }, async () => {
  // A second reward file that fails on some completions: TRL gets NaN for them, the run goes on.
  writeFileSync(join(work, 'flaky.reward.ts'), "export function flaky(s: { completion: string }): number {\n  if (s.completion.includes('1')) throw new Error('no ones');\n  return 0;\n}\n");
  writeFileSync(join(work, 'edited.reward.ts'), 'export function edited(): number {\n  return 0;\n}\n');
  const config = writeConfig('live', {
    num_iterations: 12,
    checkpoint_every: 4,
    keep_checkpoints: 2,
    rewards: [{ file: 'exact.reward.ts' }, { file: 'flaky.reward.ts' }, { file: 'edited.reward.ts', weight: 0.5 }],
  });
  const child = spawn(process.execPath, [CLI, 'train', '--config', config], { cwd: work, env: { ...process.env, GRPO_PYTHON: python! } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // The edit lands while TRL trains: at the next generation batch, never inside one.
  let edited = false;
  const timer = setInterval(() => {
    if (edited || !/^\s+1\/12 /m.test(stdout)) return;
    edited = true;
    writeFileSync(join(work, 'edited.reward.ts'), 'export function edited(): number {\n  return 0.25;\n}\n');
  }, 20);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(timer);
  assert.equal(code, EXIT.ok, stderr + stdout);
  assert.ok(edited);
  assert.match(stdout, /backend trl \(TRL \d+\.\d+\.\d+, torch .* on cpu, fp32/);

  const run = runOf('live');
  const metrics = jsonl<Metrics>(join(run, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.iteration), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  for (const name of ['loss', 'reward', 'reward_std', 'rewards/exactAnswer/mean', 'rewards/flaky/mean', 'entropy', 'grad_norm', 'learning_rate', 'num_tokens', 'completions/mean_length', 'frac_reward_zero_std', 'clip_ratio/region_mean', 'reward_failures', 'time/rewards']) {
    assert.ok(name in metrics[0], `metrics.jsonl has ${name}`);
  }
  // The edit: 0 before, 0.25 from some iteration on, and the file's version changed with it.
  const edits = metrics.map((m) => m['rewards/edited/mean']);
  const from = edits.indexOf(0.25);
  assert.ok(from >= 1, `the edited reward took effect after the first iteration: ${edits.join(', ')}`);
  assert.deepEqual(edits, [...edits.slice(0, from).map(() => 0), ...edits.slice(from).map(() => 0.25)]);
  const versions = metrics.map((m) => (m.reward_versions as Record<string, string>)['edited.reward.ts']);
  assert.notEqual(versions[0], versions[versions.length - 1]);
  // The flaky reward failed where a completion has a 1; TRL counted the others (nanmean).
  assert.ok(metrics.some((m) => (m.reward_failures as number) > 0));
  assert.ok(existsSync(join(run, 'reward-errors')) && readdirSync(join(run, 'reward-errors')).length > 0);
  // The learning signal reached TRL: its reward is the weighted sum of ours.
  for (const m of metrics) {
    const sum = (m['rewards/exactAnswer/mean'] as number) + 0.5 * (m['rewards/edited/mean'] as number);
    assert.ok(Math.abs((m.reward as number) - sum) < 0.05, `reward ${m.reward} against ${sum}`);
  }

  // Rollouts: a group's completions together, each with its tokens' log-probabilities.
  const rollouts = jsonl<{ group: number; member: number; row: number; prompt: string; completion: string; completion_ids: number[]; logprobs: number[]; advantage: number; rewards: Record<string, number | null>; finish_reason: string }>(join(run, 'rollouts', 'iter-000001.jsonl'));
  assert.equal(rollouts.length, 64);
  assert.deepEqual(rollouts.slice(0, 8).map((r) => r.member), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(rollouts.slice(0, 8).every((r) => r.row === rollouts[0].row && r.group === 0));
  for (const r of rollouts) {
    assert.equal(r.logprobs.length, r.completion_ids.length);
    assert.ok(r.logprobs.every((x) => x <= 0 && Number.isFinite(x)));
    assert.ok(['stop', 'length'].includes(r.finish_reason));
    assert.match(r.prompt, /^\d+[+-]\d+=$/);
  }
  assert.ok(Math.abs(rollouts.reduce((a, r) => a + r.advantage, 0)) < 1e-3, 'group advantages are centred');

  // Held-out: before training and after it; TRL's checkpoints, the last two kept.
  assert.deepEqual(jsonl<{ iteration: number }>(join(run, 'evaluations.jsonl')).map((e) => e.iteration), [0, 12]);
  const checkpoints = readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('checkpoint-')).sort();
  assert.deepEqual(checkpoints, ['checkpoint-16', 'checkpoint-24']);
  assert.ok(existsSync(join(run, 'checkpoints', 'checkpoint-24', 'model.safetensors')));
  assert.ok(existsSync(join(run, 'trl-config.json')));
  // Export Model copies the model folder out of a TRL checkpoint, not what only a resume needs.
  const exported = await modelFiles(join(run, 'checkpoints', 'checkpoint-24'));
  assert.ok(['config.json', 'model.safetensors', 'tokenizer.json'].every((f) => exported.includes(f)), exported.join(', '));
  assert.deepEqual(exported.filter((f) => /optimizer|scheduler|rng_state|trainer_state|training_args/.test(f)), []);
  assert.match(stdout, /best checkpoint: .*checkpoint-24|newest checkpoint: .*checkpoint-24|best checkpoint: .*checkpoint-16/);
});

test('Ctrl-C stops a trl run after its iteration with a checkpoint, and --resume continues it exactly', { skip, timeout: 300_000 }, async () => {
  const straight = grpo(['train', '--config', writeConfig('straight', { num_iterations: 4 })]);
  assert.equal(straight.code, EXIT.ok, straight.stderr);
  const config = writeConfig('stopped', { num_iterations: 4 });
  const child = spawn(process.execPath, [CLI, 'train', '--config', config], { cwd: work, env: { ...process.env, GRPO_PYTHON: python! } });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/^\s+1\/4 /m.test(stdout) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, EXIT.stopped, stdout);
  const run = runOf('stopped');
  const stoppedAt = jsonl<Metrics>(join(run, 'metrics.jsonl')).length;
  assert.ok(stoppedAt >= 1 && stoppedAt < 4, `stopped after iteration ${stoppedAt}`);
  assert.ok(existsSync(join(run, 'checkpoints', `checkpoint-${stoppedAt * 2}`, 'trainer_state.json')));

  const resumed = grpo(['train', '--resume', run]);
  assert.equal(resumed.code, EXIT.ok, resumed.stderr);
  const pick = (m: Metrics) => [m.iteration, m.loss, m.reward, m.grad_norm];
  assert.deepEqual(jsonl<Metrics>(join(run, 'metrics.jsonl')).map(pick), jsonl<Metrics>(join(runOf('straight'), 'metrics.jsonl')).map(pick));
});

test('a LoRA trl run with a KL term: PEFT adapters, reference log-probabilities in the rollouts, kl in the metrics', { skip, timeout: 300_000 }, () => {
  const r = grpo(['train', '--config', writeConfig('lora', { num_iterations: 2, kl_coef: 0.04, lora: { r: 4, lora_alpha: 8, target_modules: 'all-linear' } })]);
  assert.equal(r.code, EXIT.ok, r.stderr);
  const run = runOf('lora');
  const metrics = jsonl<Metrics>(join(run, 'metrics.jsonl'));
  assert.ok(metrics.every((m) => Number.isFinite(m.kl)), 'kl logged');
  const rollout = jsonl<{ ref_logprobs: number[] | null; completion_ids: number[] }>(join(run, 'rollouts', 'iter-000002.jsonl'));
  assert.ok(rollout.every((x) => x.ref_logprobs !== null && x.ref_logprobs.length === x.completion_ids.length));
  assert.ok(existsSync(join(run, 'checkpoints', 'checkpoint-4', 'adapter_model.safetensors')), 'a PEFT adapter checkpoint');
  assert.match(readFileSync(join(run, 'log.txt'), 'utf8'), /parameters, \d+ trained/);
});
