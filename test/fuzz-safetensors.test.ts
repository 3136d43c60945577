// Fuzzing the safetensors reader with damaged copies of real files and with headers that claim
// more than the file holds: every input either reads or is refused with a UserError naming the
// file, and nothing is allocated in proportion to a size the file cannot back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readSafetensors, readSafetensorsHeader } from '../src/model/safetensors';
import { listModelTensors, readModelWeights } from '../src/model/weights-files';
import { FuzzCount, fuzzParameters, mutatedBytes, mutatedJson, mutatedJsonText, parsesOrRefuses } from './helpers/fuzz';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FIXTURES = ['llama-tied', 'mistral-bf16'].map((m) => readFileSync(join(__dirname, 'fixtures', 'models', m, 'model.safetensors')));

function headerLength(file: Uint8Array): number {
  return Number(Buffer.from(file).readBigUInt64LE(0));
}

/** Prefix + header text + data, with the length prefix given or the true one. */
function assemble(headerText: string, data: Uint8Array, claimedLength?: bigint): Buffer {
  const header = Buffer.from(headerText, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(claimedLength ?? BigInt(header.length));
  return Buffer.concat([prefix, header, data]);
}

let fileNumber = 0;

/** Writes `bytes` to a fresh file, reads its header and every tensor; checks the outcome. */
async function readMutant(count: FuzzCount, bytes: Uint8Array): Promise<void> {
  count.next();
  const file = join(dir, `mutant-${fileNumber++}.safetensors`);
  writeFileSync(file, bytes);
  const header = await parsesOrRefuses(count, () => readSafetensorsHeader(file), [file]);
  const tensors = await parsesOrRefuses(count, () => readSafetensors(file), [file]);
  rmSync(file);
  if (header === undefined || tensors === undefined) return;
  // A file that reads must hold what it claims: float32 out is at most twice the 16-bit data in.
  const dataBytes = header.fileSize - header.dataStart;
  const outBytes = [...tensors.values()].reduce((n, t) => n + t.data.byteLength, 0);
  assert.ok(outBytes <= 2 * dataBytes, `${outBytes} bytes of tensors out of ${dataBytes} bytes of data`);
  for (const [name, t] of tensors) assert.equal(t.data.length, t.shape.reduce((a, d) => a * d, 1), name);
}

test('damaged bytes of real safetensors files are read or refused, never a crash', async (t) => {
  const count = new FuzzCount('safetensors bytes');
  const mutant = fc.oneof(
    // Most edits land in the length prefix and the JSON header, where the parser's decisions are.
    ...FIXTURES.map((f) => mutatedBytes(f, { focus: { start: 0, end: 8 + headerLength(f) } })),
    ...FIXTURES.map((f) => mutatedBytes(f, { maxEdits: 2 })),
    // Edits in the data alone: the file still reads, its values changed.
    ...FIXTURES.map((f) => mutatedBytes(f, { maxEdits: 2, focus: { start: 8 + headerLength(f), end: f.length } })),
  );
  await fc.assert(fc.asyncProperty(mutant, (bytes) => readMutant(count, bytes)), fuzzParameters(150));
  count.report(t);
});

test('headers with fields dropped, retyped, huge or deeply nested are read or refused', async (t) => {
  const count = new FuzzCount('safetensors header fields');
  const cases = FIXTURES.map((f) => {
    const n = headerLength(f);
    return { json: JSON.parse(Buffer.from(f.subarray(8, 8 + n)).toString('utf8')) as unknown, data: f.subarray(8 + n) };
  });
  const mutant = fc.oneof(...cases.map(({ json, data }) => mutatedJson(json).map((m) => assemble(m.text, data))));
  await fc.assert(fc.asyncProperty(mutant, (bytes) => readMutant(count, bytes)), fuzzParameters(150));
  count.report(t);
});

const dims = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.constantFrom(1e6, 1e12, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 60, -1, 1.5, 1e308),
);
const offsets = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(-8, 4e12, 2 ** 53, 2 ** 60, 1.5));

/** A header written from scratch: each tensor claims a shape and a byte range, often impossible ones. */
const claims = fc.record({
  entries: fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom('w', '__proto__', 'constructor', 'a/b'), fc.string({ maxLength: 8 })),
      dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'F4', 'BOOL', 'F128', 'f32', ''),
      shape: fc.array(dims, { maxLength: 4 }),
      begin: offsets,
      end: offsets,
    }),
    { maxLength: 4 },
  ),
  dataLength: fc.integer({ min: 0, max: 64 }),
  prefix: fc.constantFrom('true', 'true', 'true', 2n ** 60n, 2n ** 64n - 1n, 0n, 7n, 'file+1'),
});

test('headers that claim more than the file holds are refused before any allocation', async (t) => {
  const count = new FuzzCount('safetensors claims');
  await fc.assert(
    fc.asyncProperty(claims, async ({ entries, dataLength, prefix }) => {
      const text = `{${entries.map((e) => `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] })}`).join(',')}}`;
      const data = new Uint8Array(dataLength).fill(0x3c);
      const headerBytes = BigInt(Buffer.byteLength(text));
      const claimed = typeof prefix === 'bigint' ? prefix : prefix === 'file+1' ? headerBytes + BigInt(dataLength) + 1n : undefined;
      await readMutant(count, assemble(text, data, claimed));
    }),
    fuzzParameters(300),
  );
  count.report(t);
});

test('each impossible claim is refused with a message that says what is wrong', async () => {
  const data = new Uint8Array(16);
  const cases: { header: string; prefix?: bigint; message: RegExp }[] = [
    { header: '{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}', message: /ends at byte 4000000000000 of the data, past its end at 16/ },
    { header: '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', prefix: 2n ** 60n, message: /header length 1152921504606846976 exceeds/ },
    { header: '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', prefix: 1000n, message: /header length 1000 runs past the end/ },
    { header: '{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}', message: /past its end at 16/ },
    { header: '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}', message: /\(overlap\)/ },
    { header: '{"w":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}}', message: /expected \[begin, end\] of non-negative integers/ },
    { header: '{"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}', message: /needs 16 bytes/ },
    { header: '{"w":{"dtype":"F32","shape":[1e308,0],"data_offsets":[0,0]}}', message: /dimensions must be non-negative integers/ },
    { header: '{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}}', message: /needs/ },
    { header: '{"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}}', message: /unknown dtype "Q4"/ },
    { header: 'not json at all', message: /header is not UTF-8 JSON/ },
    { header: `{"w":{"dtype":"F32","shape":${'['.repeat(100_000)}${']'.repeat(100_000)},"data_offsets":[0,16]}}`, message: /dimensions must be non-negative integers/ },
  ];
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `claim-${i}.safetensors`);
    writeFileSync(file, assemble(c.header, data, c.prefix));
    await assert.rejects(readSafetensors(file), (e: Error) => {
      assert.equal(e.name, 'UserError', e.message);
      assert.ok(e.message.startsWith(`${file}: not a valid safetensors file`), e.message);
      assert.match(e.message, c.message);
      assert.ok(e.message.length < 600, `message of ${e.message.length} characters`);
      return true;
    });
  }
});

test('a sharded model whose model.safetensors.index.json is damaged reads or is refused', async (t) => {
  const count = new FuzzCount('safetensors index');
  const source = join(__dirname, 'fixtures', 'models', 'llama-sharded');
  const model = join(dir, 'sharded');
  mkdirSync(model);
  for (const shard of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(join(source, shard), join(model, shard));
  const index = JSON.parse(readFileSync(join(source, 'model.safetensors.index.json'), 'utf8')) as unknown;
  const indexFile = join(model, 'model.safetensors.index.json');
  await fc.assert(
    fc.asyncProperty(mutatedJsonText(index), async (text) => {
      count.next();
      writeFileSync(indexFile, text);
      const listed = await parsesOrRefuses(count, () => listModelTensors(model), [model]);
      const read = await parsesOrRefuses(count, () => readModelWeights(model), [model]);
      if (listed !== undefined && read !== undefined) assert.deepEqual([...read.keys()].sort(), [...listed.keys()].sort());
    }),
    fuzzParameters(150),
  );
  count.report(t);
});
