// Fuzzing what a resume reads from checkpoints/iter-N: trainer-state.json and
// optimizer.safetensors. A damaged copy loads into a state the trainer can continue from, or is
// refused with a UserError naming the file and the field; never a TypeError later in the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { writeSafetensors } from '../src/model/safetensors';
import { readCheckpoint, type TrainerState } from '../src/trainer/checkpoint';
import { DataOrder } from '../src/trainer/data-order';
import { FuzzCount, fuzzParameters, mutatedBytes, mutatedJson, mutatedText, parsesOrRefuses } from './helpers/fuzz';

const ROWS = 6;
const STATE: TrainerState = {
  format: 1,
  iteration: 3,
  dataOrder: { epoch: 1, position: 2, order: [4, 0, 5, 1, 3, 2], rng: [12345, 678, 9, 4000000000] },
  consecutiveSkipped: 0,
  live: { learningRate: 2e-5, rewardWeights: { exact: 2 } },
  rewardVersions: { 'exact.reward.ts': 'a1b2c3' },
  optimizerStep: 6,
  numTokens: 1234,
  entropyBonus: { coef: 0.01, lastEntropy: null },
};

const dir = mkdtempSync(join(tmpdir(), 'fuzz-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const stateFile = join(dir, 'trainer-state.json');
const optimizerFile = join(dir, 'optimizer.safetensors');
let optimizerBytes: Buffer;

before(async () => {
  const moment = (shape: number[], x: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => x + i / 100) });
  await writeSafetensors(
    optimizerFile,
    new Map([
      ['m/model.embed_tokens.weight', moment([4, 3], 0.1)],
      ['v/model.embed_tokens.weight', moment([4, 3], 0.2)],
      ['m/model.norm.weight', moment([3], 0.3)],
      ['v/model.norm.weight', moment([3], 0.4)],
    ]),
    { dtype: 'F32' },
  );
  optimizerBytes = readFileSync(optimizerFile);
});

/** Reads the checkpoint and continues from it as the trainer does: the data order, the moments. */
async function resume(count: FuzzCount, mustName: string[]): Promise<void> {
  const checkpoint = await parsesOrRefuses(count, () => readCheckpoint(dir), mustName);
  if (checkpoint === undefined) return;
  const { state, optimizer } = checkpoint;
  assert.ok(Number.isSafeInteger(state.iteration) && state.iteration >= 0);
  assert.ok(Number.isSafeInteger(optimizer.step) && optimizer.step >= 0);
  for (const [name, { m, v }] of optimizer.moments) assert.equal(m.length, v.length, name);
  const order = await parsesOrRefuses(count, () => DataOrder.restore(ROWS, state.dataOrder, dir), [dir]);
  if (order) for (const row of order.take(2 * ROWS + 1)) assert.ok(Number.isInteger(row) && row >= 0 && row < ROWS, `row ${row}`);
}

test('trainer-state.json with fields dropped, retyped, huge or nested resumes or is refused naming the field', async (t) => {
  const count = new FuzzCount('checkpoint trainer-state.json fields');
  writeFileSync(optimizerFile, optimizerBytes);
  await fc.assert(
    fc.asyncProperty(mutatedJson(STATE), async (m) => {
      count.next();
      writeFileSync(stateFile, m.text);
      // A refusal names the field (its top-level part) that was replaced or dropped.
      await resume(count, [stateFile].concat(m.kind !== 'add' && m.path.length > 0 ? [String(m.path[0])] : []).filter((s) => s !== 'format' || m.kind !== 'drop'));
    }),
    fuzzParameters(250),
  );
  count.report(t);
});

test('trainer-state.json with damaged bytes resumes or is refused', async (t) => {
  const count = new FuzzCount('checkpoint trainer-state.json bytes');
  writeFileSync(optimizerFile, optimizerBytes);
  await fc.assert(
    fc.asyncProperty(mutatedText(JSON.stringify(STATE, null, 2), 4), async (text) => {
      count.next();
      writeFileSync(stateFile, text);
      await resume(count, [stateFile]);
    }),
    fuzzParameters(150),
  );
  count.report(t);
});

test('optimizer.safetensors with damaged bytes or renamed tensors resumes or is refused', async (t) => {
  const count = new FuzzCount('checkpoint optimizer.safetensors');
  writeFileSync(stateFile, JSON.stringify(STATE));
  const headerEnd = 8 + Number(optimizerBytes.readBigUInt64LE(0));
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutatedBytes(optimizerBytes, { focus: { start: 8, end: headerEnd } }), mutatedBytes(optimizerBytes)), async (bytes) => {
      count.next();
      writeFileSync(optimizerFile, bytes);
      await resume(count, [optimizerFile]);
    }),
    fuzzParameters(200),
  );
  writeFileSync(optimizerFile, optimizerBytes);
  count.report(t);
});

test('regression: a trainer-state.json that is null, or has a bad field, is refused naming the field', async () => {
  writeFileSync(optimizerFile, optimizerBytes);
  const cases: [string, RegExp][] = [
    ['null', /expected a JSON object, got null/],
    [JSON.stringify({ ...STATE, format: 2 }), /unknown format 2; this GRPO Studio reads format 1/],
    [JSON.stringify({ ...STATE, iteration: '3' }), /field iteration: expected an integer >= 0, got "3"/],
    [JSON.stringify({ ...STATE, dataOrder: { ...STATE.dataOrder, rng: [1, 2, 3, 4, 5] } }), /field dataOrder\.rng: expected 4 integers/],
    [JSON.stringify({ ...STATE, dataOrder: { ...STATE.dataOrder, position: 7 } }), /field dataOrder\.position: 7 is past the end of dataOrder\.order \(6 rows\)/],
    [JSON.stringify({ ...STATE, dataOrder: { ...STATE.dataOrder, order: [0, -1] } }), /field dataOrder\.order\[1\]: expected an integer >= 0, got -1/],
    [JSON.stringify({ ...STATE, live: { klCoef: -1 } }), /field live\.klCoef: expected a number >= 0, got -1/],
    [JSON.stringify({ ...STATE, optimizerStep: 1.5 }), /field optimizerStep: expected an integer >= 0, got 1\.5/],
  ];
  for (const [text, message] of cases) {
    writeFileSync(stateFile, text);
    await assert.rejects(readCheckpoint(dir), (e: Error) => e.name === 'UserError' && e.message.startsWith(stateFile) && message.test(e.message));
  }
});

test('regression: optimizer moments that do not pair up, or are not moments, are refused naming the tensor', async () => {
  writeFileSync(stateFile, JSON.stringify(STATE));
  const t = (n: number) => ({ shape: [n], data: new Float32Array(n) });
  const cases: [[string, ReturnType<typeof t>][], RegExp][] = [
    [[['m/w', t(3)], ['x/w', t(3)]], /tensor "x\/w" is not a moment/],
    [[['m/w', t(3)]], /the moments of "w" do not pair up \(m of size 3, v missing\)/],
    [[['m/w', t(3)], ['v/w', t(2)]], /the moments of "w" do not pair up \(m of size 3, v of size 2\)/],
  ];
  for (const [tensors, message] of cases) {
    await writeSafetensors(optimizerFile, new Map(tensors), { dtype: 'F32' });
    await assert.rejects(readCheckpoint(dir), (e: Error) => e.name === 'UserError' && e.message.startsWith(optimizerFile) && message.test(e.message));
  }
  writeFileSync(optimizerFile, optimizerBytes);
});

test('regression: resuming with a dataset that has shrunk below the saved data order is a UserError', () => {
  assert.throws(() => DataOrder.restore(4, STATE.dataOrder, dir), (e: Error) => e.name === 'UserError' && /takes row 4, but the dataset now has 4 rows; resume with the dataset/.test(e.message));
});
