// adapter.json, the label of a LoRA run: read when present, nothing for a full fine-tuning run,
// and a damaged file is reported (naming the file and the fault) instead of thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readAdapterFile } from '../src/run-folder/adapter-file';
import { ADAPTER, writeLoraRun } from './helpers/adapter-sample';
import { writeRun } from './helpers/run-folder-fixture';

test('a LoRA run folder: adapter.json is read whole, with no problem', async () => {
  assert.deepEqual(await readAdapterFile(writeLoraRun()), { adapter: ADAPTER });
});

test('a full fine-tuning run folder has no adapter.json: no adapter, and nothing to report', async () => {
  assert.deepEqual(await readAdapterFile(writeRun(1)), {});
});

test('a damaged adapter.json gives no adapter and a problem naming the file and the fault', async () => {
  const cases: [unknown, RegExp][] = [
    ['{"r": 16, "lora_al', /not JSON/],
    [{ ...ADAPTER, r: 'sixteen' }, /r: expected a non-negative integer, got "sixteen"/],
    [{ ...ADAPTER, target_modules: 'q_proj' }, /target_modules: expected an array/],
    [{ ...ADAPTER, lora_alpha: 0 }, /lora_alpha: expected a number > 0, got 0/],
    [(({ base_parameters: _, ...rest }) => rest)(ADAPTER), /base_parameters: expected a non-negative integer, got undefined/],
    [[ADAPTER], /expected an object, got an array/],
  ];
  for (const [content, fault] of cases) {
    const dir = writeLoraRun(content);
    const read = await readAdapterFile(dir);
    assert.equal(read.adapter, undefined, JSON.stringify(content));
    assert.ok(read.problem?.startsWith(join(dir, 'adapter.json')), read.problem);
    assert.match(read.problem ?? '', fault);
    assert.match(read.problem ?? '', /adapter line is left out/);
  }
});

test('an adapter.json that cannot be read at all (a folder of that name) is a problem, not a throw', async () => {
  const dir = writeRun(1);
  mkdirSync(join(dir, 'adapter.json'));
  const read = await readAdapterFile(dir);
  assert.equal(read.adapter, undefined);
  assert.match(read.problem ?? '', /adapter\.json: cannot be read \(EISDIR/);
});
