// Hot reload at iteration boundaries: edited reward files and their imports are recompiled
// when the trainer asks; a broken edit is reported with its location and the last good
// version keeps scoring.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';

let root: string;
let runner: RewardRunner;
const write = (path: string, text: string) => writeFileSync(join(root, path), text);
const inputs: ScoreInput[] = [{ prompt: 'p', completion: 'abc', completionIds: [1, 2, 3], row: {} }];
const FILE = 'rewards/main.reward.ts';

async function valueOf(name: string): Promise<{ value: number; version: string }> {
  const scores = await runner.score(inputs, 0);
  const f = scores.functions.find((x) => x.name === name);
  assert.ok(f, `${name} is scored`);
  return { value: f.values[0], version: f.version };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'grpo-rewards-test-'));
  mkdirSync(join(root, 'rewards'));
  write('rewards/scale.ts', 'export const SCALE = 1;\n');
  write(FILE, `import { SCALE } from './scale';\nexport const score = () => 1 * SCALE;\n`);
  runner = await RewardRunner.start([{ file: FILE, weight: 2 }], { workspaceRoot: root, timeoutMs: 2000, workers: 1 });
});
after(async () => {
  await runner.close();
  rmSync(root, { recursive: true, force: true });
});

test('nothing changed: reload reports nothing and keeps the version', async () => {
  const before = runner.versions()[FILE];
  assert.deepEqual(await runner.reload(), { reloaded: [], failed: [] });
  assert.equal(runner.versions()[FILE], before);
});

test('an edited reward file takes effect at the next reload, not before', async () => {
  const v0 = await valueOf('score');
  write(FILE, `import { SCALE } from './scale';\nexport const score = () => 2 * SCALE;\n`);
  assert.equal((await valueOf('score')).value, 1, 'no reload asked for: the old version still scores');
  const report = await runner.reload();
  assert.equal(report.reloaded.length, 1);
  assert.deepEqual(report.reloaded[0], { file: FILE, version: runner.versions()[FILE], previous: v0.version });
  assert.notEqual(report.reloaded[0].version, v0.version);
  const v1 = await valueOf('score');
  assert.deepEqual(v1, { value: 2, version: report.reloaded[0].version });
});

test('editing only an imported helper reloads the reward file', async () => {
  const v1 = runner.versions()[FILE];
  write('rewards/scale.ts', 'export const SCALE = 10;\n');
  const report = await runner.reload();
  assert.deepEqual(report.reloaded.map((r) => r.file), [FILE]);
  assert.notEqual(runner.versions()[FILE], v1);
  assert.equal((await valueOf('score')).value, 20);
});

test('a syntax error is reported with file, line and column once; the last good version keeps scoring', async () => {
  const good = runner.versions()[FILE];
  write(FILE, `import { SCALE } from './scale';\nexport const score = () => 3 * SCALE;\nexport const broken = () => {;\n`);
  const report = await runner.reload();
  assert.deepEqual(report.reloaded, []);
  assert.equal(report.failed.length, 1);
  assert.equal(report.failed[0].file, FILE);
  assert.equal(report.failed[0].line, 4);
  assert.ok(report.failed[0].column >= 1);
  assert.match(report.failed[0].message, /Unexpected end of file/);
  assert.deepEqual(await valueOf('score'), { value: 20, version: good });
  assert.deepEqual(await runner.reload(), { reloaded: [], failed: [] }, 'still broken, not reported again');

  write(FILE, `import { SCALE } from './scale';\nexport const score = () => 3 * SCALE;\n`);
  const fixed = await runner.reload();
  assert.equal(fixed.reloaded.length, 1);
  assert.equal((await valueOf('score')).value, 30);
});

test('an error in an imported helper is located in the helper', async () => {
  write('rewards/scale.ts', 'export const SCALE = ;\n');
  const report = await runner.reload();
  assert.deepEqual(report.failed.map((p) => [p.file, p.line]), [['rewards/scale.ts', 1]]);
  assert.equal((await valueOf('score')).value, 30);
  write('rewards/scale.ts', 'export const SCALE = 10;\n');
  assert.equal((await runner.reload()).failed.length, 0);
});

test('a new version that throws while loading is rejected before anything switches', async () => {
  const good = runner.versions()[FILE];
  write(FILE, `export const score = () => 4;\nJSON.parse('{');\n`);
  const report = await runner.reload();
  assert.deepEqual(report.reloaded, []);
  assert.equal(report.failed.length, 1);
  assert.equal(report.failed[0].line, 2);
  assert.match(report.failed[0].message, /throws while loading: SyntaxError/);
  assert.deepEqual(await valueOf('score'), { value: 30, version: good });
  assert.deepEqual(await runner.reload(), { reloaded: [], failed: [] }, 'the rejected version is not retried');
});

test('a function a reload adds takes its file\'s weight, and the total follows', async () => {
  write(FILE, `export const score = () => 5;\nexport const extra = () => 0.25;\n`);
  const report = await runner.reload();
  assert.equal(report.reloaded.length, 1);
  const scores = await runner.score(inputs, 0);
  assert.deepEqual(scores.functions.map((f) => [f.name, f.weight, f.values[0]]), [['extra', 2, 0.25], ['score', 2, 5]]);
  assert.deepEqual([...scores.total], [2 * 0.25 + 2 * 5]);
});
