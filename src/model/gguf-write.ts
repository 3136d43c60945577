// Writing a GGUF file (version 3), the format llama.cpp loads: a header of typed key/value
// metadata, a table of tensors, then the tensor data, each tensor aligned. There is no GGUF
// writer for Node on npm, so this is ours; test/gguf-write.test.ts reads files back through
// llama.cpp itself.
import { promises as fsp } from 'node:fs';
import { endianness } from 'node:os';
import { assert } from '../errors';
import { toFloat16 } from './float16';
import type { TensorData } from './safetensors-read';
import { writeAll } from './safetensors-write';

/** A metadata value and the GGUF type it is written as. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'f32[]'; value: ArrayLike<number> }
  | { type: 'i32[]'; value: ArrayLike<number> };

export type GgufTensorType = 'F32' | 'F16';

/** A tensor as GGUF holds it: `shape` in row-major order (as PyTorch writes it), data float32. */
export interface GgufTensor extends TensorData {
  type: GgufTensorType;
}

const ALIGNMENT = 32; // GGUF's default (general.alignment)
const CHUNK_ELEMENTS = 4 * 1024 * 1024; // F16 conversion scratch

// GGUF value type codes (gguf.h).
const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;
const TENSOR_TYPE: Record<GgufTensorType, number> = { F32: 0, F16: 1 };

/** Grows as header fields are appended; little-endian throughout, as GGUF is. */
class HeaderBytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v >>> 0, this.length); this.length += 4; }
  i32(v: number): void { this.room(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.room(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  u64(v: number): void { this.room(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  u8(v: number): void { this.room(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(to: number): void { const n = (to - (this.length % to)) % to; this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  bytes(): Uint8Array { return this.buf.subarray(0, this.length); }
}

function writeValue(h: HeaderBytes, v: GgufValue): void {
  switch (v.type) {
    case 'u32': h.u32(TYPE.u32); h.u32(v.value); return;
    case 'i32': h.u32(TYPE.i32); h.i32(v.value); return;
    case 'f32': h.u32(TYPE.f32); h.f32(v.value); return;
    case 'bool': h.u32(TYPE.bool); h.u8(v.value ? 1 : 0); return;
    case 'string': h.u32(TYPE.string); h.string(v.value); return;
    case 'string[]': h.u32(TYPE.array); h.u32(TYPE.string); h.u64(v.value.length); for (const s of v.value) h.string(s); return;
    case 'f32[]': h.u32(TYPE.array); h.u32(TYPE.f32); h.u64(v.value.length); for (let i = 0; i < v.value.length; i++) h.f32(v.value[i]); return;
    case 'i32[]': h.u32(TYPE.array); h.u32(TYPE.i32); h.u64(v.value.length); for (let i = 0; i < v.value.length; i++) h.i32(v.value[i]); return;
  }
}

function tensorBytes(t: GgufTensor): number {
  return t.data.length * (t.type === 'F32' ? 4 : 2);
}

/**
 * Writes a GGUF file atomically (to `file.tmp-<pid>`, flushed, renamed), streaming tensor
 * data so no copy of the whole model is built. Tensors go in the map's order. GGUF lists a
 * tensor's dimensions innermost first, so `shape` [out, in] is written as (in, out): the
 * bytes are the same row-major ones.
 */
export async function writeGguf(file: string, metadata: Map<string, GgufValue>, tensors: Map<string, GgufTensor>): Promise<void> {
  assert(endianness() === 'LE', 'GGUF writing assumes a little-endian host');
  const h = new HeaderBytes();
  h.u32(0x46554747); // "GGUF"
  h.u32(3);
  h.u64(tensors.size);
  h.u64(metadata.size);
  for (const [key, value] of metadata) {
    h.string(key);
    writeValue(h, value);
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    assert(t.data.length === t.shape.reduce((a, b) => a * b, 1), `GGUF tensor ${name}: shape [${t.shape}] does not match its ${t.data.length} values`);
    h.string(name);
    h.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) h.u64(t.shape[d]);
    h.u32(TENSOR_TYPE[t.type]);
    h.u64(offset);
    offset += Math.ceil(tensorBytes(t) / ALIGNMENT) * ALIGNMENT;
  }
  h.pad(ALIGNMENT);

  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await writeAll(fh, h.bytes());
    const padding = new Uint8Array(ALIGNMENT);
    for (const t of tensors.values()) {
      if (t.type === 'F32') {
        await writeAll(fh, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      } else {
        const scratch = new Uint16Array(Math.min(CHUNK_ELEMENTS, t.data.length));
        for (let start = 0; start < t.data.length; start += scratch.length) {
          const count = Math.min(scratch.length, t.data.length - start);
          toFloat16(t.data.subarray(start, start + count), scratch);
          await writeAll(fh, new Uint8Array(scratch.buffer, 0, count * 2));
        }
      }
      const rest = (ALIGNMENT - (tensorBytes(t) % ALIGNMENT)) % ALIGNMENT;
      if (rest > 0) await writeAll(fh, padding.subarray(0, rest));
    }
    await fh.close();
    await fsp.rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
