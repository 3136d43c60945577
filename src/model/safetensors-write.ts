// Writing float32 tensors to a safetensors file that transformers loads, as F32 or BF16.
import { promises as fsp } from 'node:fs';
import { endianness } from 'node:os';
import { assert } from '../errors';
import { METADATA_KEY, SafetensorsHeaderEntry, elementCount, encodeHeader } from './safetensors-header';
import type { TensorData } from './safetensors-read';

export type WritableDtype = 'F32' | 'BF16';

export interface WriteSafetensorsOptions {
  dtype: WritableDtype;
  metadata?: Record<string, string>;
}

/** Elements converted per write; bounds scratch memory for BF16 output. */
const CHUNK_ELEMENTS = 8 * 1024 * 1024;

/** Bytes one tensor takes in a file of `dtype`. */
export function storedBytes(tensor: TensorData, dtype: WritableDtype): number {
  return tensor.data.length * (dtype === 'F32' ? 4 : 2);
}

/**
 * Writes `tensors` to `file` atomically: the bytes go to `file.tmp-<pid>`, are flushed,
 * then renamed over `file`, so a crash never leaves a half-written file at `file`.
 * Tensors are laid out in sorted-name order: the same weights always give the same
 * bytes whatever order the caller built the map in (and, for one dtype, the order the
 * reference implementation uses). Data is streamed tensor by tensor, never gathered
 * into one buffer.
 */
export async function writeSafetensors(file: string, tensors: Map<string, TensorData>, opts: WriteSafetensorsOptions): Promise<void> {
  assert(endianness() === 'LE', 'safetensors writing assumes a little-endian host');
  const names = [...tensors.keys()].sort();
  const entries: [string, SafetensorsHeaderEntry][] = [];
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    assert(name !== METADATA_KEY && name !== '', `tensor name "${name}" is reserved`);
    assert(elementCount(tensor.shape) === tensor.data.length, `tensor "${name}": shape [${tensor.shape}] does not match its ${tensor.data.length} values`);
    const bytes = storedBytes(tensor, opts.dtype);
    entries.push([name, { dtype: opts.dtype, shape: tensor.shape, begin: offset, end: offset + bytes }]);
    offset += bytes;
  }
  // transformers refuses safetensors checkpoints whose format is not "pt".
  const header = encodeHeader(entries, { ...opts.metadata, format: 'pt' });

  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await writeAll(fh, header);
    for (const name of names) {
      const { data } = tensors.get(name)!;
      if (opts.dtype === 'F32') {
        await writeAll(fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } else {
        await writeBfloat16(fh, data);
      }
    }
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => undefined); // already closed when the rename failed
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

async function writeBfloat16(fh: fsp.FileHandle, data: Float32Array): Promise<void> {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const scratch = new Uint16Array(Math.min(CHUNK_ELEMENTS, data.length));
  for (let start = 0; start < data.length; start += scratch.length) {
    const count = Math.min(scratch.length, data.length - start);
    for (let i = 0; i < count; i++) scratch[i] = float32BitsToBfloat16(bits[start + i]);
    await writeAll(fh, new Uint8Array(scratch.buffer, 0, count * 2));
  }
}

/** Round to nearest, ties to even, as torch does; every NaN becomes the quiet NaN 0x7FC0 (c10's scalar choice). */
function float32BitsToBfloat16(f32Bits: number): number {
  if ((f32Bits & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  const roundingBias = 0x7fff + ((f32Bits >>> 16) & 1);
  // Overflow rounds up into the exponent, giving infinity, as IEEE rounding should.
  return (f32Bits + roundingBias) >>> 16;
}

/** write() may write less than asked (and moves at most 2 GiB - 1 per call); loop in bounded pieces. */
export async function writeAll(fh: fsp.FileHandle, bytes: Uint8Array): Promise<void> {
  const maxChunk = 64 * 1024 * 1024;
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(maxChunk, bytes.length - done));
    done += bytesWritten;
  }
}
