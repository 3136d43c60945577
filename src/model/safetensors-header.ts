// The safetensors header: an 8-byte little-endian length N, then N bytes of JSON
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`, then the
// data buffer, to which the offsets are relative. Parsing here checks everything the
// reference implementation checks, so a bad file fails at open with a clear message
// instead of producing garbage weights later.
import { promises as fsp } from 'node:fs';
import { UserError } from '../errors';
import { quoteName, quoteValue } from '../error-text';

/** Bits per element of every dtype the safetensors format defines. */
const DTYPE_BITS = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, I64: 64, U64: 64, F64: 64, C64: 64,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BITS;

/** The dtypes we can turn into float32 (the model code computes in float32). */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type ReadableDtype = (typeof READABLE_DTYPES)[number];

export function isReadableDtype(dtype: SafetensorsDtype): dtype is ReadableDtype {
  return (READABLE_DTYPES as readonly string[]).includes(dtype);
}

/** One tensor's header record; begin/end are byte offsets relative to the data buffer. */
export interface SafetensorsHeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsHeaderEntry>; // in the file's JSON order
  metadata: Record<string, string>;
  dataStart: number; // absolute file offset of the data buffer (8 + N)
  fileSize: number;
}

/** Same limit as the reference implementation: real headers are well under 1 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

export const METADATA_KEY = '__metadata__';

export function bitsPerElement(dtype: SafetensorsDtype): number {
  return DTYPE_BITS[dtype];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Opens `file` for reading, turning "no such file" into a UserError. */
export async function openForReading(file: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(`${file}: file not found; check the model folder path`);
    }
    throw err;
  }
}

/** Fills `target` from `position` on, looping over short reads; fails if the file ends first. */
export async function readExactly(fh: fsp.FileHandle, file: string, target: Uint8Array, position: number): Promise<void> {
  // One read() call moves at most 2 GiB - 1 bytes; 64 MiB keeps each call modest.
  const maxChunk = 64 * 1024 * 1024;
  let done = 0;
  while (done < target.length) {
    const want = Math.min(maxChunk, target.length - done);
    const { bytesRead } = await fh.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new UserError(`${file}: file ends at byte ${position + done}, expected ${target.length - done} more bytes; the file is truncated, download it again`);
    }
    done += bytesRead;
  }
}

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await openForReading(file);
  try {
    return await readHeaderFrom(fh, file);
  } finally {
    await fh.close();
  }
}

export async function readHeaderFrom(fh: fsp.FileHandle, file: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size;
  const bad = (problem: string) =>
    new UserError(`${file}: not a valid safetensors file: ${problem}; re-export or re-download it`);
  if (fileSize < 8) throw bad(`it is ${fileSize} bytes long, shorter than the 8-byte header length`);
  const lengthBytes = new Uint8Array(8);
  await readExactly(fh, file, lengthBytes, 0);
  const headerLength = Buffer.from(lengthBytes).readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw bad(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLength);
  if (8 + n > fileSize) throw bad(`header length ${n} runs past the end of the ${fileSize}-byte file`);
  const headerBytes = new Uint8Array(n);
  await readExactly(fh, file, headerBytes, 8);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeaderJson(headerBytes, fileSize - dataStart, bad);
  return { entries, metadata, dataStart, fileSize };
}

function parseHeaderJson(
  bytes: Uint8Array,
  bufferLength: number,
  bad: (problem: string) => UserError,
): { entries: Map<string, SafetensorsHeaderEntry>; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw bad(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw bad('header JSON is not an object');

  let metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsHeaderEntry>();
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, bad);
    } else {
      entries.set(name, parseEntry(name, value, bad));
    }
  }
  checkLayout(entries, bufferLength, bad);
  return { entries, metadata };
}

function parseMetadata(value: unknown, bad: (problem: string) => UserError): Record<string, string> {
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw bad(`"${METADATA_KEY}" must be an object of string values`);
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, value: unknown, bad: (problem: string) => UserError): SafetensorsHeaderEntry {
  const where = `tensor ${quoteName(name)}`;
  if (!isPlainObject(value)) throw bad(`${where} is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw bad(`${where} has no string "dtype"`);
  if (!Object.hasOwn(DTYPE_BITS, dtype)) {
    throw bad(`${where} has unknown dtype ${quoteName(dtype)} (known: ${Object.keys(DTYPE_BITS).join(', ')})`);
  }
  if (!Array.isArray(shape)) throw bad(`${where} has no "shape" array`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`${where} has shape ${quoteValue(shape)}; dimensions must be non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw bad(`${where} has "data_offsets" ${quoteValue(offsets)}; expected [begin, end] of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  const entry: SafetensorsHeaderEntry = { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
  const bits = elementCount(entry.shape) * bitsPerElement(entry.dtype);
  if (end < begin || (end - begin) * 8 !== bits) {
    throw bad(`${where} has data_offsets [${begin}, ${end}] (${end - begin} bytes) but ${dtype} ${quoteValue(shape)} needs ${bits / 8} bytes`);
  }
  return entry;
}

/** Tensors must tile the buffer exactly: no gaps, no overlaps, nothing past the end. */
function checkLayout(entries: Map<string, SafetensorsHeaderEntry>, bufferLength: number, bad: (problem: string) => UserError): void {
  const byBegin = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const [name, e] of byBegin) {
    if (e.end > bufferLength) {
      throw bad(`tensor ${quoteName(name)} ends at byte ${e.end} of the data, past its end at ${bufferLength}`);
    }
    if (e.begin !== expected) {
      const what = e.begin > expected ? 'gap' : 'overlap';
      throw bad(`tensor ${quoteName(name)} starts at byte ${e.begin} but the previous tensor ends at ${expected} (${what})`);
    }
    expected = e.end;
  }
  if (expected !== bufferLength) {
    throw bad(`tensors cover ${expected} bytes of data but the file holds ${bufferLength}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The header bytes for `entries` (in the given order), with the length prefix and space padding to 8 bytes. */
export function encodeHeader(entries: [string, SafetensorsHeaderEntry][], metadata: Record<string, string>): Uint8Array {
  // Built as text, not as an object, so no tensor name (say "__proto__") can act as a key with meaning.
  const fields = [[METADATA_KEY, metadata] as [string, unknown]].concat(
    entries.map(([name, e]) => [name, { dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] }]),
  );
  const text = Buffer.from(`{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`, 'utf-8');
  // Padding keeps the data buffer 8-byte aligned for readers that map the file.
  const padded = Math.ceil(text.length / 8) * 8;
  const out = Buffer.alloc(8 + padded, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  text.copy(out, 8);
  return out;
}
