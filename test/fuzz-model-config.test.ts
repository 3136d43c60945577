// Fuzzing config.json of a model folder: damaged copies of the fixtures' configs either load as
// a consistent architecture or are refused with a UserError naming the file and the field.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadModelConfig, type ModelConfig } from '../src/model/config';
import { FuzzCount, fuzzParameters, mutatedJson, mutatedText, parsesOrRefuses } from './helpers/fuzz';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-model-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.json');

const CONFIGS = ['llama-tied', 'llama3-rope', 'mistral-bf16', 'qwen2-gqa-bias']
  .map((m) => readFileSync(join(__dirname, 'fixtures', 'models', m, 'config.json'), 'utf8'))
  .concat(readFileSync(join(__dirname, '..', 'examples', 'demo', 'model', 'config.json'), 'utf8'));

const isCount = (n: number) => Number.isSafeInteger(n) && n > 0;
const isTokenId = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** What the model code relies on in a config that loaded. */
function assertConsistent(c: ModelConfig): void {
  for (const [k, v] of Object.entries({ vocabSize: c.vocabSize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, maxPositionEmbeddings: c.maxPositionEmbeddings })) {
    assert.ok(isCount(v), `${k} = ${v}`);
  }
  assert.equal(c.numHeads % c.numKvHeads, 0);
  assert.equal(c.headDim % 2, 0);
  assert.ok(Number.isFinite(c.rmsNormEps) && c.rmsNormEps > 0 && Number.isFinite(c.ropeTheta) && c.ropeTheta > 0);
  assert.ok(c.bosTokenId === undefined || isTokenId(c.bosTokenId), `bosTokenId ${c.bosTokenId}`);
  assert.ok(c.eosTokenIds.every(isTokenId), `eosTokenIds ${c.eosTokenIds}`);
  assert.ok(c.slidingWindow === null || isCount(c.slidingWindow));
  if (c.ropeScaling) for (const v of Object.values(c.ropeScaling)) assert.ok(v === 'llama3' || (Number.isFinite(v) && v > 0), `ropeScaling ${JSON.stringify(c.ropeScaling)}`);
}

test('config.json with fields dropped, retyped, huge or nested loads consistently or is refused naming the field', async (t) => {
  const count = new FuzzCount('model config.json fields');
  const mutant = fc.oneof(...CONFIGS.map((text) => mutatedJson(JSON.parse(text))));
  await fc.assert(
    fc.asyncProperty(mutant, async (m) => {
      count.next();
      writeFileSync(file, m.text);
      // A changed top-level field is what a refusal must name; a nested change names its parent.
      const field = m.path.length > 0 && m.kind !== 'add' ? [String(m.path[0])] : [];
      const config = await parsesOrRefuses(count, () => loadModelConfig(dir), [file, ...field]);
      if (config) assertConsistent(config);
    }),
    fuzzParameters(250),
  );
  count.report(t);
});

test('damaged bytes of config.json load consistently or are refused', async (t) => {
  const count = new FuzzCount('model config.json bytes');
  await fc.assert(
    fc.asyncProperty(fc.oneof(...CONFIGS.map((text) => mutatedText(text))), async (text) => {
      count.next();
      writeFileSync(file, text);
      const config = await parsesOrRefuses(count, () => loadModelConfig(dir), [file]);
      if (config) assertConsistent(config);
    }),
    fuzzParameters(200),
  );
  count.report(t);
});

test('regression: sizes past 2^53, bad token ids and huge values are refused by name, in one line', async () => {
  const base = JSON.parse(CONFIGS[0]) as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ vocab_size: 1e300 }, /field "vocab_size" must be a positive integer, got 1e\+300/],
    [{ hidden_size: 2 ** 60 }, /field "hidden_size" must be a positive integer/],
    [{ bos_token_id: -1 }, /field "bos_token_id" must be a token id/],
    [{ bos_token_id: 1.5 }, /field "bos_token_id" must be a token id/],
    [{ eos_token_id: [2, 'two'] }, /field "eos_token_id" must be a token id \(an integer >= 0\) or a list of them, got \[2,"two"\]/],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: Infinity } }, /rope_scaling\.original_max_position_embeddings must be a positive number/],
    [{ hidden_act: 'x'.repeat(1_000_000) }, /hidden_act "xxx.*\.\.\. is not supported/],
  ];
  for (const [change, message] of cases) {
    // JSON has no Infinity; 1e999 is how a file spells a number that overflows to it.
    writeFileSync(file, JSON.stringify({ ...base, ...change }, (_, v: unknown) => (v === Infinity ? '__inf__' : v)).replace('"__inf__"', '1e999'));
    await assert.rejects(loadModelConfig(dir), (e: Error) => {
      assert.equal(e.name, 'UserError');
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(file) && e.message.length < 300, e.message.slice(0, 300));
      return true;
    });
  }
  writeFileSync(file, JSON.stringify({ ...base, bos_token_id: null, eos_token_id: [2, 3] }));
  const ok = await loadModelConfig(dir);
  assert.equal(ok.bosTokenId, undefined);
  assert.deepEqual(ok.eosTokenIds, [2, 3]);
});
