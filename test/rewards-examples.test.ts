// Every example reward under examples/rewards scores hand-written samples to known values,
// through the real runner (esbuild, worker threads), as a user's config would use them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';
import type { RewardScores } from '../src/rewards/scores';

const EXAMPLES = join(__dirname, '..', 'examples');
let runner: RewardRunner;

before(async () => {
  runner = await RewardRunner.start(
    [
      { file: 'rewards/exact-answer.reward.ts' },
      { file: 'rewards/format.reward.ts' },
      { file: 'rewards/length-penalty.reward.ts' },
      { file: 'rewards/code-execution.reward.ts' },
    ],
    { workspaceRoot: EXAMPLES, timeoutMs: 5000 },
  );
});
after(() => runner.close());

const sample = (completion: string, row: Record<string, unknown> = {}, tokens = 1): ScoreInput => ({
  prompt: 'Q',
  completion,
  completionIds: Array.from({ length: tokens }, (_, i) => i),
  row,
});

function valuesOf(scores: RewardScores, name: string): number[] {
  const f = scores.functions.find((x) => x.name === name);
  assert.ok(f, `${name} is scored`);
  assert.deepEqual(f.errors, [], `${name} raised no errors`);
  return [...f.values];
}

test('exact answer: "####" answers and last numbers compared by value with row.answer', async () => {
  const scores = await runner.score(
    [
      sample('2 + 2 = 4, so #### 4', { answer: '4' }),
      sample('It costs $1,000.', { answer: 1000 }),
      sample('She has 3 apples then 5.', { answer: 'They had 2.\n#### 5' }),
      sample('#### 7', { answer: '8' }),
      sample('no idea', { answer: '8' }),
    ],
    0,
  );
  assert.deepEqual(valuesOf(scores, 'exactAnswer'), [1, 1, 1, 0, 0]);
  assert.deepEqual(scores.metrics['exactAnswer/has_answer'].sort(), [0, 1, 1, 1, 1]);
});

test('format: think/answer tags by regex, and valid JSON (bare or fenced)', async () => {
  const scores = await runner.score(
    [
      sample('<think>2+2 is 4</think>\n<answer>4</answer>'),
      sample('<answer>4</answer>'),
      sample('{"name": "Ada", "age": 36}'),
      sample('Here you go:\n```json\n[1, 2, 3]\n```'),
      sample('{"name": "Ada",}'),
      sample('42'),
    ],
    0,
  );
  assert.deepEqual(valuesOf(scores, 'answerTags'), [1, 0, 0, 0, 0, 0]);
  assert.deepEqual(valuesOf(scores, 'validJson'), [0, 0, 1, 1, 0, 0]);
});

test('length penalty: 0 up to 64 tokens, -0.5 at 96, towards -1 beyond, smooth; batch share as a metric', async () => {
  const scores = await runner.score([sample('', {}, 10), sample('', {}, 64), sample('', {}, 96), sample('', {}, 640)], 0);
  const [short, atTarget, over, far] = valuesOf(scores, 'lengthPenalty');
  assert.equal(short, 0);
  assert.equal(atTarget, 0);
  assert.ok(Math.abs(over - -0.5) < 1e-12, `${over}`);
  assert.ok(far < -0.99 && far > -1, `${far}`);
  assert.deepEqual(scores.metrics['lengthPenalty/over_target_frac'], [0.5]);
});

test('code execution: fraction of row.tests passed; loops, process and require cannot escape the sandbox', async () => {
  const tests = ['add(2, 3) === 5', 'add(-1, 1) === 0', 'add(0.5, 0.25) === 0.75', 'add(2, 2) === 4'];
  const js = (code: string) => `Here is my solution:\n\`\`\`js\n${code}\n\`\`\`\n`;
  const t0 = Date.now();
  const scores = await runner.score(
    [
      sample(js('function add(a, b) { return a + b; }'), { tests }),
      sample(js('const add = (a, b) => a * b;'), { tests }),
      sample(js('function add(a, b) { return a - b; }'), { tests }),
      sample(js('while (true) {}'), { tests }),
      sample(js('function add(a, b) { while (true) {} }'), { tests }),
      sample(js('process.exit(1); function add(a, b) { return a + b; }'), { tests }),
      sample(js('const fs = require("fs"); function add(a, b) { return a + b; }'), { tests }),
      sample(js('function add(a, b) { return this.constructor.constructor("return process")().exit(1); }'), { tests }),
      sample(js('Promise.resolve().then(() => { while (true) {} }); function add(a, b) { return a + b; }'), { tests }),
      sample('I would add them.', { tests }),
      sample(js('function add(a, b) { return a + b; }'), { tests: [] }),
    ],
    0,
  );
  const values = scores.functions.find((f) => f.name === 'codeTests')?.values;
  assert.deepEqual([...(values ?? [])], [1, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, NaN]);
  // No worker died (an escaped process.exit would end it) and the row without tests is null, not an error.
  assert.deepEqual(scores.functions.find((f) => f.name === 'codeTests')?.errors, []);
  // Each looping completion is cut at the sandbox's 1 s budget, far inside the worker's 5 s limit.
  assert.ok(Date.now() - t0 < 4500, `took ${Date.now() - t0} ms`);
});
