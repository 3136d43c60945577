// The GGUF writer, read back by llama.cpp's own GGUF reader (node-llama-cpp), and the float16
// conversion it uses, checked against every half-precision value and the rounding edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float16Table, float32BitsToFloat16 } from '../src/model/float16';
import { writeGguf, type GgufTensor, type GgufValue } from '../src/model/gguf-write';

const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];

test('float16: every half value converts back to itself; ties go to even; overflow is infinity', () => {
  const table = float16Table();
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (isNaN) assert.equal(float32BitsToFloat16(bitsOf(table[h])) & 0x7e00, 0x7e00, `NaN ${h.toString(16)} stays NaN`);
    else assert.equal(float32BitsToFloat16(bitsOf(table[h])), h, `half 0x${h.toString(16)}`);
  }
  const cases: [number, number][] = [
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: up
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just past halfway: up
    [65519, 0x7bff], // largest finite after rounding
    [65520, 0x7c00], // rounds to infinity
    [2 ** -25, 0x0000], // half the smallest subnormal: to even (0)
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: to even (2)
    [-2, 0xc000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  for (const [x, want] of cases) assert.equal(float32BitsToFloat16(bitsOf(x)), want, `float16(${x})`);
});

test('a GGUF file written here reads back through llama.cpp\'s reader: metadata, tensor table and data', async () => {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const dir = mkdtempSync(join(tmpdir(), 'gguf-'));
  try {
    const file = join(dir, 'x.gguf');
    const metadata = new Map<string, GgufValue>([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'naïve ✓' }],
      ['llama.block_count', { type: 'u32', value: 3 }],
      ['test.negative', { type: 'i32', value: -7 }],
      ['llama.rope.freq_base', { type: 'f32', value: 10000.5 }],
      ['test.flag', { type: 'bool', value: true }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: ['a', '', 'ccc'] }],
      ['tokenizer.ggml.scores', { type: 'f32[]', value: [0.5, -1, 2] }],
      ['tokenizer.ggml.token_type', { type: 'i32[]', value: [1, 3, 6] }],
    ]);
    // Odd sizes, so each tensor needs padding to the next 32-byte boundary.
    const a = Float32Array.from({ length: 3 * 5 }, (_, i) => i / 7 - 1);
    const b = Float32Array.from({ length: 7 }, (_, i) => i * 0.25 - 0.5);
    const tensors = new Map<string, GgufTensor>([
      ['a.weight', { shape: [3, 5], data: a, type: 'F32' }],
      ['b.weight', { shape: [7], data: b, type: 'F16' }],
    ]);
    await writeGguf(file, metadata, tensors);
    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(info.version, 3);
    assert.equal(m.general.architecture, 'llama');
    assert.equal(m.general.name, 'naïve ✓');
    assert.equal((m.llama as Record<string, unknown>).block_count, 3);
    assert.equal((m.test as Record<string, unknown>).negative, -7);
    assert.equal((m.test as Record<string, unknown>).flag, true);
    assert.equal(((m.llama as Record<string, Record<string, unknown>>).rope).freq_base, 10000.5);
    const tok = (m.tokenizer as Record<string, Record<string, unknown>>).ggml;
    assert.deepEqual([...(tok.tokens as string[])], ['a', '', 'ccc']);
    assert.deepEqual([...(tok.scores as number[])], [0.5, -1, 2]);
    assert.deepEqual([...(tok.token_type as number[])], [1, 3, 6]);

    const table = info.tensorInfo!;
    assert.deepEqual(table.map((t) => t.name), ['a.weight', 'b.weight']);
    assert.deepEqual(table[0].dimensions.map(Number), [5, 3], 'innermost dimension first');
    assert.deepEqual(table[1].dimensions.map(Number), [7]);
    assert.deepEqual(table.map((t) => Number(t.ggmlType)), [0, 1]);
    const bytes = readFileSync(file);
    const at = (t: (typeof table)[number]) => Number(t.fileOffset);
    assert.equal(at(table[0]) % 32, 0);
    assert.equal(at(table[1]) % 32, 0);
    const readA = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at(table[0]), bytes.byteOffset + at(table[0]) + a.byteLength));
    assert.deepEqual([...readA], [...a]);
    const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset + at(table[1]), bytes.byteOffset + at(table[1]) + 14));
    assert.deepEqual([...halves].map((h) => float16Table()[h]), [...b], 'these values are exact in float16');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
