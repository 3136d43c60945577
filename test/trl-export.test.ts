// `grpo export --target trl` as a user runs it: the exported folder trains with TRL under a
// real `accelerate launch` (one CPU process, its accelerate-cpu.yaml), its rewards asked of a
// real `grpo serve-rewards` serving the workspace's TypeScript reward file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { trlPython } from './helpers/trl-python';

const CLI = join(__dirname, '..', 'out', 'cli.js');
const DEMO = join(__dirname, '..', 'examples', 'demo');
const { python, reason } = trlPython();
const work = mkdtempSync(join(tmpdir(), 'grpo-trl-export-'));
const configFile = join(work, 'grpo.config.json');
let server: ChildProcess | undefined;

const grpo = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8' });

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  cpSync(join(DEMO, '..', 'rewards', 'lib'), join(work, 'lib'), { recursive: true });
  writeFileSync(join(work, 'exact.reward.ts'), readFileSync(join(DEMO, '..', 'rewards', 'exact-answer.reward.ts'), 'utf8'));
  writeFileSync(
    configFile,
    JSON.stringify({
      model_path: join(DEMO, 'model'),
      dataset_path: join(DEMO, 'train.jsonl'),
      rewards: [{ file: 'exact.reward.ts', weight: 2 }],
      rollout_batch_size: 4,
      group_size: 4,
      minibatch_size: 8,
      max_new_tokens: 5,
      learning_rate: 1e-4,
      kl_coef: 0,
      checkpoint_every: 1,
    }),
  );
});

after(() => server?.kill('SIGTERM'));

test('the export holds the mapped settings, the prompts with their columns, the model and the commands', () => {
  const r = grpo('export', '--target', 'trl', '--config', configFile, '--out', 'exported');
  assert.equal(r.status, 0, r.stderr);
  const dir = join(work, 'exported');
  const settings = JSON.parse(readFileSync(join(dir, 'grpo_config.json'), 'utf8'));
  assert.deepEqual(settings.reward_functions, ['exactAnswer']);
  assert.deepEqual(settings.trl.reward_weights, [2]);
  assert.deepEqual([settings.trl.num_generations, settings.trl.per_device_train_batch_size, settings.trl.steps_per_generation, settings.trl.save_steps], [4, 8, 2, 2]);
  const first = JSON.parse(readFileSync(join(dir, 'train.jsonl'), 'utf8').split('\n')[0]);
  assert.ok(typeof first.prompt === 'string' && 'answer' in first, 'the prompt and its answer column');
  for (const f of ['train_grpo.py', 'grpo_trl/rewards.py', 'grpo_trl/remote.py', 'accelerate.yaml', 'accelerate-cpu.yaml', 'serve-rewards.sh', 'README.md', 'model/config.json']) {
    assert.ok(existsSync(join(dir, f)), `${f} exported`);
  }
  assert.match(readFileSync(join(dir, 'serve-rewards.sh'), 'utf8'), /grpo serve-rewards --config ".*grpo\.config\.json" --port 8765/);
  const again = grpo('export', '--target', 'trl', '--config', configFile, '--out', 'exported');
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /exported is not empty; give a new folder to --out/);
  const unmappable = join(work, 'budget.config.json');
  writeFileSync(unmappable, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), memory_budget_mb: 512 }));
  assert.match(grpo('export', '--target', 'trl', '--config', unmappable, '--out', 'other').stderr, /"memory_budget_mb" cannot be honoured with "engine": "trl"/);
});

test('the exported folder trains under accelerate launch with the rewards from grpo serve-rewards', { skip: python ? false : reason, timeout: 300_000 }, async () => {
  server = spawn(process.execPath, [CLI, 'serve-rewards', '--config', configFile, '--port', '0'], { cwd: work });
  const url = await new Promise<string>((resolve, reject) => {
    server!.once('exit', (code) => reject(new Error(`grpo serve-rewards exited with ${code}`)));
    createInterface({ input: server!.stdout! }).on('line', (line) => {
      const m = /https?:\/\/[\d.]+:\d+/.exec(line);
      if (m) resolve(m[0]);
    });
  });
  const accelerate = join(dirname(python!), 'accelerate');
  const dir = join(work, 'exported');
  const run = spawnSync(accelerate, ['launch', '--config_file', 'accelerate-cpu.yaml', 'train_grpo.py', '--rewards-url', url, '--max-steps', '4'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '2' },
  });
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  assert.match(run.stdout + run.stderr, /rewards\/exactAnswer\/mean/, "TRL logged the served reward's values");
  assert.ok(existsSync(join(dir, 'outputs', 'checkpoint-2', 'trainer_state.json')), 'a TRL checkpoint every iteration (2 optimizer steps)');
  assert.ok(existsSync(join(dir, 'outputs', 'final', 'model.safetensors')), 'the trained model');
});
