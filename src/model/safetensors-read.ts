// Reading tensors out of a safetensors file as float32. Each tensor is read by byte range
// through a file handle, never the whole file at once, so files past Node's 2-4 GiB
// Buffer limit work and reading a subset costs only that subset.
import type { promises as fsp } from 'node:fs';
import { endianness } from 'node:os';
import { UserError, assert } from '../errors';
import { float16Table } from './float16';
import {
  READABLE_DTYPES, SafetensorsHeader, SafetensorsHeaderEntry, elementCount, isReadableDtype,
  openForReading, readExactly, readHeaderFrom,
} from './safetensors-header';

/** A tensor as the model code receives it: always float32, row-major. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Elements converted per read; bounds the scratch memory for F16/BF16 files. */
const CHUNK_ELEMENTS = 8 * 1024 * 1024;

/**
 * Reads the named tensors (all of them when `names` is omitted) as float32.
 * The result is in `names` order, or in file order when reading everything.
 */
export async function readSafetensors(file: string, names?: string[]): Promise<Map<string, TensorData>> {
  const fh = await openForReading(file);
  try {
    const header = await readHeaderFrom(fh, file);
    const wanted = names ?? [...header.entries.keys()];
    const out = new Map<string, TensorData>();
    for (const name of wanted) {
      out.set(name, await readTensor(fh, file, header, name));
    }
    return out;
  } finally {
    await fh.close();
  }
}

async function readTensor(fh: fsp.FileHandle, file: string, header: SafetensorsHeader, name: string): Promise<TensorData> {
  const entry = header.entries.get(name);
  if (entry === undefined) {
    const present = [...header.entries.keys()];
    const sample = present.slice(0, 5).map((n) => `"${n}"`).join(', ');
    throw new UserError(`${file}: no tensor named "${name}"; it holds ${present.length} tensors, e.g. ${sample || '(none)'}; check the model architecture matches the checkpoint`);
  }
  const { dtype, shape } = entry;
  if (!isReadableDtype(dtype)) {
    throw new UserError(`${file}: dtype ${dtype} of tensor "${name}" is not supported, supported: ${READABLE_DTYPES.join(', ')}; convert the checkpoint to one of those`);
  }
  // The typed-array views below read the host's byte order; safetensors is little-endian.
  assert(endianness() === 'LE', 'safetensors reading assumes a little-endian host');
  const data = new Float32Array(elementCount(shape));
  const position = header.dataStart + entry.begin;
  if (dtype === 'F32') {
    await readExactly(fh, file, new Uint8Array(data.buffer), position);
  } else {
    await readConverted(fh, file, entry, position, data);
  }
  return { shape: [...shape], data };
}

/** Reads a 16-bit tensor chunk by chunk and widens each chunk into `out`. */
async function readConverted(fh: fsp.FileHandle, file: string, entry: SafetensorsHeaderEntry, position: number, out: Float32Array): Promise<void> {
  const scratch = new Uint16Array(Math.min(CHUNK_ELEMENTS, out.length));
  const outBits = new Uint32Array(out.buffer);
  const f16Table = entry.dtype === 'F16' ? float16Table() : undefined;
  for (let start = 0; start < out.length; start += scratch.length) {
    const count = Math.min(scratch.length, out.length - start);
    await readExactly(fh, file, new Uint8Array(scratch.buffer, 0, count * 2), position + start * 2);
    if (f16Table !== undefined) {
      for (let i = 0; i < count; i++) out[start + i] = f16Table[scratch[i]];
    } else {
      // bfloat16 is the upper half of a float32: shifting the bits back is exact.
      for (let i = 0; i < count; i++) outBits[start + i] = scratch[i] << 16;
    }
  }
}

