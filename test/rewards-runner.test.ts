// The reward runner on real reward files: both forms, sync and async, the context, imports,
// and every kind of bad output turning into NaN with an error that points at the user's code.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';
import { weightedTotal } from '../src/rewards/scores';
import { workspace } from './helpers/workspace';


const inputs: ScoreInput[] = [
  { prompt: 'What is 2+2?', completion: ' 4', completionIds: [11, 12], row: { answer: '4', id: 'a' } },
  { prompt: 'What is 2+2?', completion: 'five', completionIds: [13, 14, 15], row: { answer: '4', id: 'b' } },
  { prompt: 'What is 3+3?', completion: '6', completionIds: [16], row: { answer: '6', id: 'c' } },
];

describe('reward forms and context', () => {
  let root: string;
  let runner: RewardRunner;
  before(async () => {
    root = workspace({
      'rewards/forms.reward.ts': `
        import { batched, type RewardContext, type RewardSample } from 'grpo-studio/reward';
        import { normalise } from '../lib/normalise';

        export function exact(s: RewardSample<{ answer: string }>): number {
          return normalise(s.completion) === s.row.answer ? 1 : 0;
        }
        export async function slowLength(s: RewardSample): Promise<number> {
          await new Promise((r) => setTimeout(r, 5));
          return s.completionIds.length;
        }
        export const batchIndex = batched((samples) => samples.map((_, i) => i * 10));
        export const asyncBatch = batched(async (samples) => samples.map((s) => s.completion.length));
        export function echoContext(s: RewardSample<{ id: string }>, ctx: RewardContext): number {
          ctx.log(\`\${s.row.id} \${s.prompt} it=\${ctx.iteration} ids=\${s.completionIds.join(',')}\`);
          console.log('printed', s.row.id);
          ctx.metric('seen', s.completionIds.length);
          return ctx.iteration;
        }
      `,
      'lib/normalise.ts': `export const normalise = (s: string) => s.trim().toLowerCase();\n`,
    });
    runner = await RewardRunner.start([{ file: 'rewards/forms.reward.ts' }], { workspaceRoot: root, timeoutMs: 5000 });
  });
  after(async () => {
    await runner.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('per-sample and batched functions, sync and async, each give one value per sample', async () => {
    const scores = await runner.score(inputs, 7);
    const values = Object.fromEntries(scores.functions.map((f) => [f.name, [...f.values]]));
    assert.deepEqual(values.exact, [1, 0, 1], 'uses the helper imported from lib/normalise.ts');
    assert.deepEqual(values.slowLength, [2, 3, 1]);
    assert.deepEqual(values.batchIndex, [0, 10, 20]);
    assert.deepEqual(values.asyncBatch, [2, 4, 1]);
    assert.deepEqual(values.echoContext, [7, 7, 7]);
    for (const f of scores.functions) assert.deepEqual(f.errors, [], f.name);
    assert.deepEqual(runner.rewards().map((r) => [r.name, r.batched]).sort(), [
      ['asyncBatch', true], ['batchIndex', true], ['echoContext', false], ['exact', false], ['slowLength', false],
    ]);
  });

  test('the context carries prompt, row, token ids and iteration; log, console and metric are collected', async () => {
    const scores = await runner.score(inputs, 3);
    const lines = scores.logs.filter((l) => l.fn === 'echoContext').map((l) => l.line).sort();
    assert.deepEqual(lines, [
      'a What is 2+2? it=3 ids=11,12', 'b What is 2+2? it=3 ids=13,14,15', 'c What is 3+3? it=3 ids=16',
      'printed a', 'printed b', 'printed c',
    ]);
    assert.deepEqual([...scores.metrics['echoContext/seen']].sort(), [1, 2, 3]);
  });

  test('every score records the version of the file it used', async () => {
    const scores = await runner.score(inputs.slice(0, 1), 0);
    const version = runner.versions()['rewards/forms.reward.ts'];
    assert.match(version, /^[0-9a-f]{12}$/);
    for (const f of scores.functions) assert.equal(f.version, version);
  });

  test('no inputs, no calls', async () => {
    const scores = await runner.score([], 0);
    assert.equal(scores.total.length, 0);
    for (const f of scores.functions) assert.equal(f.values.length, 0);
  });
});

describe('bad reward output becomes NaN with an error pointing at the user file', () => {
  let root: string;
  let runner: RewardRunner;
  before(async () => {
    root = workspace({
      'bad.reward.ts': [
        `import { batched, type RewardSample } from 'grpo-studio/reward';`, // line 1
        `export function throws(s: RewardSample): number {`, // line 2
        `  if (s.completion === 'five') throw new Error('cannot score five');`, // line 3
        `  return 1;`,
        `}`,
        `export function notANumber(): number {`, // line 6
        `  return 'high' as unknown as number;`,
        `}`,
        `export const nan = (s: RewardSample) => (s.completion === '6' ? NaN : 0.5);`, // line 9
        `export const abstains = () => null;`,
        `export const wrongLength = batched((samples) => samples.slice(1).map(() => 1));`, // line 11
        `export const rejects = batched(async () => { throw new TypeError('no batch today'); });`, // line 12
        `export const good = () => 2;`,
      ].join('\n'),
    });
    runner = await RewardRunner.start([{ file: 'bad.reward.ts', weights: { good: 0.5 } }], { workspaceRoot: root, timeoutMs: 5000 });
  });
  after(async () => {
    await runner.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('each failure is NaN for exactly the affected samples, with message and mapped location', async () => {
    const scores = await runner.score(inputs, 0);
    const fn = (name: string) => {
      const f = scores.functions.find((x) => x.name === name);
      assert.ok(f, name);
      return f;
    };
    const file = join(root, 'bad.reward.ts');

    assert.deepEqual([...fn('throws').values], [1, NaN, 1]);
    assert.equal(fn('throws').errors.length, 1);
    const thrown = fn('throws').errors[0];
    assert.equal(thrown.kind, 'threw');
    assert.equal(thrown.message, 'Error: cannot score five');
    assert.deepEqual(thrown.samples, [1]);
    assert.ok(thrown.stack?.includes(`${file}:3:`), `stack maps to line 3 of the .ts file: ${thrown.stack}`);

    const invalid = fn('notANumber').errors;
    assert.deepEqual([...fn('notANumber').values], [NaN, NaN, NaN]);
    assert.equal(invalid.length, 1, 'identical errors merge');
    assert.equal(invalid[0].kind, 'invalid');
    assert.match(invalid[0].message, /returned the string "high"/);
    assert.deepEqual(invalid[0].samples.sort(), [0, 1, 2]);
    assert.ok(invalid[0].stack?.includes(`${file}:6:`), `points at the definition: ${invalid[0].stack}`);

    assert.deepEqual([...fn('nan').values], [0.5, 0.5, NaN]);
    assert.match(fn('nan').errors[0].message, /returned NaN/);
    assert.deepEqual(fn('nan').errors[0].samples, [2]);

    assert.deepEqual([...fn('abstains').values], [NaN, NaN, NaN]);
    assert.deepEqual(fn('abstains').errors, [], 'null means "does not apply", not an error');

    assert.deepEqual([...fn('wrongLength').values], [NaN, NaN, NaN]);
    assert.match(fn('wrongLength').errors[0].message, /returned 2 values for 3 samples/);
    assert.ok(fn('wrongLength').errors[0].stack?.includes(`${file}:11:`));

    assert.deepEqual([...fn('rejects').values], [NaN, NaN, NaN]);
    assert.equal(fn('rejects').errors[0].message, 'TypeError: no batch today');
    assert.ok(fn('rejects').errors[0].stack?.includes(`${file}:12:`));

    // nansum: good (2 x 0.5) + throws (1) + nan (0.5 where present) + notANumber etc. ignored.
    assert.deepEqual([...scores.total], [1 + 1 + 0.5, 1 + 0.5, 1 + 1]);
    assert.equal(fn('good').weight, 0.5);
  });

  test('setWeights changes the total from the next score; unknown names are refused', async () => {
    runner.setWeights({ good: 2, throws: 0 });
    const scores = await runner.score(inputs.slice(0, 1), 1);
    assert.deepEqual([...scores.total], [4 + 0 + 0.5]);
    assert.throws(() => runner.setWeights({ missing: 1 }), /reward weight for "missing": no reward function has that name/);
    assert.throws(() => runner.setWeights({ good: NaN }), /must be a finite number/);
  });
});

test('weightedTotal is a nansum over functions, NaN only where every function failed', () => {
  const total = weightedTotal(
    [
      { values: Float64Array.from([1, NaN, NaN, 0]), weight: 2 },
      { values: Float64Array.from([0.5, 3, NaN, NaN]), weight: -1 },
    ],
    4,
  );
  assert.deepEqual([...total], [1.5, -3, NaN, 0]);
});

describe('start-time problems are user errors naming the file', () => {
  let root: string;
  before(() => {
    root = workspace({
      'syntax.reward.ts': 'export function f(): number {\n  return 1 +;\n}\n',
      'throws-on-load.reward.ts': 'export const f = () => 1;\nthrow new Error("config missing");\n',
      'nothing.reward.ts': 'export const target = 3;\n',
      'a.reward.ts': 'export const shared = () => 1;\n',
      'b.reward.ts': 'export const shared = () => 2;\n',
    });
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  const start = (file: string, extra: object = {}) => RewardRunner.start([{ file, ...extra }], { workspaceRoot: root });

  test('a syntax error names file, line and column', async () => {
    await assert.rejects(start('syntax.reward.ts'), { name: 'UserError', message: /^syntax\.reward\.ts:2:\d+: .*does not compile/ });
  });
  test('a file that throws while loading names the line it threw at', async () => {
    await assert.rejects(start('throws-on-load.reward.ts'), { name: 'UserError', message: /^throws-on-load\.reward\.ts:2:\d+: throws while loading: Error: config missing/ });
  });
  test('a missing file, no reward export, an unknown function name, a duplicate name', async () => {
    await assert.rejects(start('nope.reward.ts'), { name: 'UserError', message: /reward file nope\.reward\.ts not found/ });
    await assert.rejects(start('nothing.reward.ts'), { name: 'UserError', message: /nothing\.reward\.ts: exports no reward function/ });
    await assert.rejects(start('a.reward.ts', { functions: ['other'] }), { name: 'UserError', message: /has no exported reward function "other" \(it exports: shared\)/ });
    await assert.rejects(
      RewardRunner.start([{ file: 'a.reward.ts' }, { file: 'b.reward.ts' }], { workspaceRoot: root }),
      { name: 'UserError', message: /"shared" is exported by both a\.reward\.ts and b\.reward\.ts/ },
    );
  });
});
