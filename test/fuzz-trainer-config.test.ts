// Fuzzing grpo.config.json: damaged copies of the demo's settings file either validate to a
// config the trainer can use or are refused with a UserError naming the file and the field.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadTrainingConfig, type TrainingConfig } from '../src/trainer/config';
import { FuzzCount, fuzzParameters, mutatedJson, mutatedText, parsesOrRefuses } from './helpers/fuzz';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-trainer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'grpo.config.json');

const demoDir = join(__dirname, '..', 'examples', 'demo');
const CONFIGS = ['grpo.config.json', 'grpo.lora.config.json'].map((f) => readFileSync(join(demoDir, f), 'utf8'));

function assertUsable(c: TrainingConfig): void {
  assert.equal((c.rollout_batch_size * c.group_size) % c.minibatch_size, 0);
  assert.ok(c.rewards.length > 0 && c.rewards.every((r) => typeof r.file === 'string' && Number.isFinite(r.weight)));
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} = ${v}`);
}

test('grpo.config.json with fields dropped, retyped, huge or nested validates or is refused naming the field', async (t) => {
  const count = new FuzzCount('grpo.config.json fields');
  await fc.assert(
    fc.asyncProperty(fc.oneof(...CONFIGS.map((text) => mutatedJson(JSON.parse(text)))), async (m) => {
      count.next();
      writeFileSync(file, m.text);
      // A replaced or dropped field is what the message must name; an added one names itself,
      // and a changed size may be reported through the field it must divide.
      const named = m.kind === 'replace' && m.path.length > 0 && !['rollout_batch_size', 'group_size', 'minibatch_size', 'num_iterations', 'warmup_iterations'].includes(String(m.path[0])) ? [String(m.path[0])] : [];
      const config = await parsesOrRefuses(count, () => loadTrainingConfig(file), [file, ...named]);
      if (config) assertUsable(config);
    }),
    fuzzParameters(250),
  );
  count.report(t);
});

test('grpo.config.json with damaged bytes validates or is refused', async (t) => {
  const count = new FuzzCount('grpo.config.json bytes');
  await fc.assert(
    fc.asyncProperty(fc.oneof(...CONFIGS.map((text) => mutatedText(text, 4))), async (text) => {
      count.next();
      writeFileSync(file, text);
      const config = await parsesOrRefuses(count, () => loadTrainingConfig(file), [file]);
      if (config) assertUsable(config);
    }),
    fuzzParameters(200),
  );
  count.report(t);
});

test('batch sizes up to 2^53 and unknown keys up to a megabyte are answered at once', async (t) => {
  const count = new FuzzCount('grpo.config.json sizes and keys');
  const base = JSON.parse(CONFIGS[0]) as Record<string, unknown>;
  const size = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(1e6, 1e9, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 4294967296));
  const key = fc.oneof(fc.constantFrom('learningrate', 'kl_coeff', '__proto__'), fc.integer({ min: 1_000, max: 1_000_000 }).map((n) => 'k'.repeat(n)));
  await fc.assert(
    fc.asyncProperty(size, size, size, fc.option(key), async (rollout, group, minibatch, extra) => {
      count.next();
      const text = JSON.stringify({ ...base, rollout_batch_size: rollout, group_size: Math.max(2, group), minibatch_size: minibatch });
      writeFileSync(file, extra === null ? text : `${text.slice(0, -1)},${JSON.stringify(extra)}:1}`);
      const started = Date.now();
      const config = await parsesOrRefuses(count, () => loadTrainingConfig(file), [file]);
      assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
      if (config) assertUsable(config);
    }),
    fuzzParameters(150),
  );
  count.report(t);
});

test('regression: a minibatch_size that does not divide 2^52 completions is refused at once, with divisors to choose from', async () => {
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(CONFIGS[0]) as object), rollout_batch_size: 2 ** 26, group_size: 2 ** 26, minibatch_size: 3 }));
  const started = Date.now();
  await assert.rejects(loadTrainingConfig(file), (e: Error) => {
    assert.equal(e.name, 'UserError');
    assert.match(e.message, /minibatch_size 3 does not divide the 4503599627370496 completions .* set minibatch_size to one of 1, 2, 4, 8, .*\.\.\..*, 4503599627370496, or change/);
    assert.ok(e.message.length < 700, e.message);
    return true;
  });
  assert.ok(Date.now() - started < 1_000);
});

test('regression: a value nested too deep to print, or a megabyte-long unknown key, is a one-line UserError', async () => {
  const base = JSON.stringify(JSON.parse(CONFIGS[0])).slice(0, -1);
  writeFileSync(file, `${base},"seed":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  await assert.rejects(loadTrainingConfig(file), (e: Error) => e.name === 'UserError' && /field "seed" must be an integer .*, got an array \(\[\[\[/.test(e.message) && e.message.length < 400);
  writeFileSync(file, `${base},"${'k'.repeat(1_000_000)}":1}`);
  const started = Date.now();
  await assert.rejects(loadTrainingConfig(file), (e: Error) => e.name === 'UserError' && /unknown field "kkk.*\.\.\."; remove it/.test(e.message) && e.message.length < 2_000);
  assert.ok(Date.now() - started < 1_000);
});
