import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { TensorData, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/model/safetensors';

const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.map((d) => fsp.rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'safetensors-test-'));
  tempDirs.push(dir);
  return dir;
}

/** A safetensors file made by hand: length prefix, header text as given, then `data`. */
async function writeRaw(file: string, header: string | object, data: Uint8Array = new Uint8Array(0)): Promise<void> {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await fsp.writeFile(file, Buffer.concat([prefix, text, data]));
}

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

function bitsToF32(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

/**
 * bfloat16 rounding computed independently of the writer: take the two bfloat16
 * neighbours of x, compare distances in float64, break ties towards the even one.
 * Beyond the largest bfloat16 the upper neighbour counts as 2^128 (IEEE overflow rule).
 */
function referenceBfloat16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const bits = f32Bits(x);
  const low = bits >>> 16; // truncated towards zero
  if ((bits & 0xffff) === 0) return low;
  const high = low + 1; // one bfloat16 step away from zero
  const lowValue = bitsToF32(low << 16);
  const highValue = (high & 0x7fff) === 0x7f80 ? Math.sign(x) * 2 ** 128 : bitsToF32(high << 16);
  const dLow = Math.abs(x - lowValue);
  const dHigh = Math.abs(highValue - x);
  if (dLow < dHigh) return low;
  if (dHigh < dLow) return high;
  return low % 2 === 0 ? low : high;
}

function tensor(shape: number[], values: number[]): TensorData {
  return { shape, data: new Float32Array(values) };
}

test('F32 round trip is bit-exact, including -0, NaN, infinities, subnormals', async () => {
  const dir = await tempDir();
  const file = join(dir, 'w.safetensors');
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -1 / 3];
  const random = Array.from({ length: 200 }, () => (Math.random() - 0.5) * 1e6);
  const tensors = new Map([
    ['b.special', tensor([2, 4], special)],
    ['a.random', tensor([10, 20], random)],
    ['c.scalar', tensor([], [42])],
    ['d.empty', tensor([0, 3], [])],
  ]);
  await writeSafetensors(file, tensors, { dtype: 'F32' });
  const back = await readSafetensors(file);
  assert.deepEqual([...back.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) {
    const got = back.get(name)!;
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(t.data.buffer), name);
  }
});

test('BF16 writing rounds to nearest even like torch, and reads back to the rounded values', async () => {
  const dir = await tempDir();
  const file = join(dir, 'w.safetensors');
  // [value, expected bfloat16 bits], the expected bits worked out by hand.
  const table: [number, number][] = [
    [1.0, 0x3f80],
    [1 / 3, 0x3eab], // f32 0x3EAAAAAB: low half 0xAAAB > 0x8000 rounds up
    [-2.5e-3, 0xbb24], // f32 0xBB23D70A rounds up in magnitude
    [65504, 0x4780], // f32 0x477FE000 rounds up to 65536
    [1e-40, 0x0001], // f32 subnormal 0x000116C2 rounds down
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [NaN, 0x7fc0],
    [1 + 2 ** -8, 0x3f80], // exact tie, 0x3F80 is even
    [1 + 3 * 2 ** -8, 0x3f82], // exact tie, 0x3F82 is even
    [3.4028234663852886e38, 0x7f80], // largest float32 overflows to infinity
    [-0, 0x8000],
  ];
  for (const [x, bits] of table) assert.equal(referenceBfloat16Bits(x), bits, `reference for ${x}`);

  const random = Array.from({ length: 5000 }, () => (Math.random() - 0.5) * 10 ** (Math.random() * 20 - 10));
  const values = [...table.map(([x]) => x), ...random];
  await writeSafetensors(file, new Map([['w', tensor([values.length], values)]]), { dtype: 'BF16' });

  const header = await readSafetensorsHeader(file);
  const entry = header.entries.get('w')!;
  assert.equal(entry.dtype, 'BF16');
  const raw = await fsp.readFile(file);
  const stored = new Uint16Array(raw.buffer.slice(raw.byteOffset + header.dataStart, raw.byteOffset + raw.length));
  const expected = values.map((x) => referenceBfloat16Bits(Math.fround(x)));
  assert.deepEqual([...stored], expected);

  const back = (await readSafetensors(file)).get('w')!;
  for (let i = 0; i < values.length; i++) {
    const want = bitsToF32(expected[i] << 16);
    assert.ok(Object.is(back.data[i], want), `value ${values[i]}: got ${back.data[i]}, want ${want}`);
  }
});

test('F16 tensors are widened to float32 exactly: normals, subnormals, infinities, NaN, signed zero', async () => {
  const dir = await tempDir();
  const file = join(dir, 'half.safetensors');
  const cases: [number, number][] = [
    [0x3c00, 1.0],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x8000, -0],
    [0x7e00, NaN],
  ];
  const bytes = new Uint8Array(new Uint16Array(cases.map(([h]) => h)).buffer);
  await writeRaw(file, { h: { dtype: 'F16', shape: [cases.length], data_offsets: [0, bytes.length] } }, bytes);
  const got = (await readSafetensors(file)).get('h')!;
  cases.forEach(([h, want], i) => assert.ok(Object.is(got.data[i], want), `0x${h.toString(16)}: got ${got.data[i]}, want ${want}`));
});

test('BF16 tensors from other writers are widened exactly', async () => {
  const dir = await tempDir();
  const file = join(dir, 'bf.safetensors');
  const bytes = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x0001, 0xff80]).buffer);
  await writeRaw(file, { b: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 8] } }, bytes);
  const got = (await readSafetensors(file)).get('b')!;
  assert.deepEqual(got.shape, [2, 2]);
  assert.deepEqual([...got.data], [1, -3, bitsToF32(0x00010000), -Infinity]);
});

test('metadata holds format "pt" merged with the caller\'s entries; header is space-padded to 8 bytes', async () => {
  const dir = await tempDir();
  const file = join(dir, 'm.safetensors');
  await writeSafetensors(file, new Map([['x', tensor([3], [1, 2, 3])]]), {
    dtype: 'F32',
    metadata: { run: 'abc', format: 'tf' },
  });
  const header = await readSafetensorsHeader(file);
  assert.deepEqual(header.metadata, { run: 'abc', format: 'pt' });
  assert.equal(header.dataStart % 8, 0);
  const raw = await fsp.readFile(file);
  const text = raw.subarray(8, header.dataStart).toString();
  assert.match(text, /^\{.*\} *$/);
  assert.equal(header.fileSize, header.dataStart + 12);
});

test('tensors are laid out contiguously in sorted-name order whatever the map order', async () => {
  const dir = await tempDir();
  const file = join(dir, 'o.safetensors');
  const tensors = new Map([
    ['z', tensor([2], [1, 2])],
    ['a', tensor([1], [3])],
    ['m', tensor([3], [4, 5, 6])],
  ]);
  await writeSafetensors(file, tensors, { dtype: 'F32' });
  const { entries } = await readSafetensorsHeader(file);
  assert.deepEqual(
    ['a', 'm', 'z'].map((n) => [entries.get(n)!.begin, entries.get(n)!.end]),
    [[0, 4], [4, 16], [16, 24]],
  );
});

test('reading a subset returns only those tensors, in the order asked', async () => {
  const dir = await tempDir();
  const file = join(dir, 's.safetensors');
  await writeSafetensors(file, new Map([
    ['a', tensor([1], [1])],
    ['b', tensor([2], [2, 3])],
    ['c', tensor([1], [4])],
  ]), { dtype: 'F32' });
  const got = await readSafetensors(file, ['c', 'a']);
  assert.deepEqual([...got.keys()], ['c', 'a']);
  assert.deepEqual([...got.get('c')!.data], [4]);
  assert.deepEqual([...got.get('a')!.data], [1]);
});

test('asking for a missing tensor names the file and lists some that exist', async () => {
  const dir = await tempDir();
  const file = join(dir, 'n.safetensors');
  await writeSafetensors(file, new Map([['present.weight', tensor([1], [1])]]), { dtype: 'F32' });
  await assert.rejects(readSafetensors(file, ['absent.weight']), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.ok(err.message.includes(file));
    assert.match(err.message, /"absent\.weight".*"present\.weight"/);
    return true;
  });
});

test('an unsupported dtype is listed in the header but refused on read with the supported list', async () => {
  const dir = await tempDir();
  const file = join(dir, 'i64.safetensors');
  await writeRaw(file, {
    ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
    w: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
  }, new Uint8Array(20));
  const header = await readSafetensorsHeader(file);
  assert.equal(header.entries.get('ids')!.dtype, 'I64');
  assert.deepEqual([...(await readSafetensors(file, ['w'])).get('w')!.data], [0]);
  await assert.rejects(readSafetensors(file), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.ok(err.message.includes(file));
    assert.ok(err.message.includes('dtype I64 of tensor "ids" is not supported, supported: F32, F16, BF16'));
    return true;
  });
});

test('a missing file is a UserError naming it', async () => {
  const file = join(await tempDir(), 'nope.safetensors');
  await assert.rejects(readSafetensorsHeader(file), (err: Error) => err instanceof UserError && err.message.includes(file));
});

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** [case, header (or raw file bytes), data bytes, what the message must say] */
const malformed: [string, string | object | Buffer, number, RegExp][] = [
  ['file shorter than 8 bytes', Buffer.from([1, 2, 3, 4]), 0, /4 bytes long/],
  ['header length past the end of the file', Buffer.concat([Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]), 0, /runs past the end/],
  ['absurd header length', Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]), 0, /exceeds the 100000000-byte limit/],
  ['header not JSON', '{"a": ', 0, /not UTF-8 JSON/],
  ['header not an object', '[1, 2]', 0, /not an object/],
  ['entry not an object', { a: 3 }, 0, /tensor "a" is not an object/],
  ['entry missing dtype', { a: { shape: [1], data_offsets: [0, 4] } }, 4, /no string "dtype"/],
  ['entry missing shape', { a: { dtype: 'F32', data_offsets: [0, 4] } }, 4, /no "shape" array/],
  ['entry missing data_offsets', { a: { dtype: 'F32', shape: [1] } }, 4, /"data_offsets" undefined/],
  ['shape of the wrong type', { a: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, 4, /no "shape" array/],
  ['data_offsets of the wrong type', { a: { dtype: 'F32', shape: [1], data_offsets: ['0', '4'] } }, 4, /"data_offsets" \["0","4"\]/],
  ['unknown dtype', { a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16, /unknown dtype "F128"/],
  ['negative shape dim', { a: f32([-1], 0, 4) }, 4, /dimensions must be non-negative integers/],
  ['non-integer shape dim', { a: f32([1.5], 0, 6) }, 6, /dimensions must be non-negative integers/],
  ['size not matching the shape', { a: f32([2, 2], 0, 12) }, 12, /12 bytes\) but F32 \[2,2\] needs 16 bytes/],
  ['end before begin', { a: f32([0], 4, 0) }, 4, /data_offsets \[4, 0\]/],
  ['offsets outside the buffer', { a: f32([2], 0, 8) }, 4, /past its end at 4/],
  ['gap between tensors', { a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12, /starts at byte 8 but the previous tensor ends at 4 \(gap\)/],
  ['overlapping tensors', { a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12, /starts at byte 4 but the previous tensor ends at 8 \(overlap\)/],
  ['first tensor not at 0', { a: f32([1], 4, 8) }, 8, /starts at byte 4 but the previous tensor ends at 0/],
  ['trailing bytes after the last tensor', { a: f32([1], 0, 4) }, 8, /cover 4 bytes of data but the file holds 8/],
  ['metadata with a non-string value', { __metadata__: { step: 3 } }, 0, /"__metadata__" must be an object of string values/],
];

for (const [name, header, dataBytes, expected] of malformed) {
  test(`malformed header rejected: ${name}`, async () => {
    const file = join(await tempDir(), 'bad.safetensors');
    if (Buffer.isBuffer(header)) await fsp.writeFile(file, header);
    else await writeRaw(file, header, new Uint8Array(dataBytes));
    for (const read of [() => readSafetensorsHeader(file), () => readSafetensors(file)]) {
      await assert.rejects(read(), (err: Error) => {
        assert.ok(err instanceof UserError, `not a UserError: ${err.message}`);
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.match(err.message, expected);
        return true;
      });
    }
  });
}

test('writing replaces the file atomically and leaves no temporary file', async () => {
  const dir = await tempDir();
  const file = join(dir, 'a.safetensors');
  await writeSafetensors(file, new Map([['x', tensor([1], [1])]]), { dtype: 'F32' });
  await writeSafetensors(file, new Map([['x', tensor([2], [7, 8])]]), { dtype: 'BF16' });
  assert.deepEqual(await fsp.readdir(dir), ['a.safetensors']);
  assert.deepEqual([...(await readSafetensors(file)).get('x')!.data], [7, 8]);
});

test('a failed write removes its temporary file and leaves the target untouched', async () => {
  const dir = await tempDir();
  const target = join(dir, 'occupied');
  await fsp.mkdir(target); // renaming a file over a directory fails
  await assert.rejects(writeSafetensors(target, new Map([['x', tensor([1], [1])]]), { dtype: 'F32' }));
  assert.deepEqual(await fsp.readdir(dir), ['occupied']);
  assert.deepEqual(await fsp.readdir(target), []);
});

test('a tensor stored past 2 GiB is read by offset (sparse file)', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'big.safetensors');
  const padBytes = 2 ** 31 + 8; // a U8 filler we never read pushes "tail" past 2^31
  const header = Buffer.from(JSON.stringify({
    pad: { dtype: 'U8', shape: [padBytes], data_offsets: [0, padBytes] },
    tail: { dtype: 'F32', shape: [3], data_offsets: [padBytes, padBytes + 12] },
  }));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  const dataStart = 8 + header.length;
  const fh = await fsp.open(file, 'w');
  try {
    await fh.write(Buffer.concat([prefix, header]), 0, 8 + header.length, 0);
    try {
      await fh.truncate(dataStart + padBytes + 12);
    } catch (err) {
      t.skip(`filesystem refused a sparse file: ${(err as Error).message}`);
      return;
    }
    const tail = new Uint8Array(new Float32Array([1.5, -2, 3e10]).buffer);
    await fh.write(tail, 0, tail.length, dataStart + padBytes);
  } finally {
    await fh.close();
  }
  const got = (await readSafetensors(file, ['tail'])).get('tail')!;
  assert.deepEqual([...got.data], [1.5, -2, Math.fround(3e10)]);
});
