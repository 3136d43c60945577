// A model folder's weights: one `model.safetensors`, or shards
// `model-00001-of-0000N.safetensors` listed by `model.safetensors.index.json`
// (`{"metadata": {"total_size": bytes}, "weight_map": {tensor: shard}}`), the layout
// transformers' save_pretrained writes and from_pretrained reads.
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError, assert } from '../errors';
import { quoteName, quoteValue } from '../error-text';
import {
  SafetensorsDtype, TensorData, WritableDtype, readSafetensors, readSafetensorsHeader, storedBytes, writeSafetensors,
} from './safetensors';

export const SINGLE_WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
const SHARD_FILE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * transformers' save_pretrained default ("5GB"), so a model we save shards the way the
 * same model saved from Python would. Our reader has no 2 GiB limit, so nothing
 * smaller is needed; the models we train mostly fit in one file.
 */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/** Where a tensor lives and what it is, without reading its data. */
export interface ModelTensorInfo {
  file: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/** Every tensor of the model in `modelDir`, from the headers only. */
export async function listModelTensors(modelDir: string): Promise<Map<string, ModelTensorInfo>> {
  const out = new Map<string, ModelTensorInfo>();
  for (const [file, listed] of await locateWeightFiles(modelDir)) {
    const { entries } = await readSafetensorsHeader(file);
    for (const name of listed ?? entries.keys()) {
      const entry = entries.get(name);
      if (entry === undefined) {
        throw new UserError(`${join(modelDir, WEIGHTS_INDEX_FILE)}: weight_map puts tensor ${quoteName(name)} in ${basename(file)}, which does not contain it; the download is incomplete or the index is stale, download the model again`);
      }
      out.set(name, { file, dtype: entry.dtype, shape: entry.shape });
    }
  }
  return out;
}

/** Reads the model's tensors as float32: all of them, or only `names`. */
export async function readModelWeights(modelDir: string, names?: string[]): Promise<Map<string, TensorData>> {
  const tensors = await listModelTensors(modelDir);
  const wanted = names ?? [...tensors.keys()];
  const byFile = new Map<string, string[]>();
  for (const name of wanted) {
    const info = tensors.get(name);
    if (info === undefined) {
      const sample = [...tensors.keys()].slice(0, 5).map((n) => `"${n}"`).join(', ');
      throw new UserError(`${modelDir}: the model weights have no tensor ${quoteName(name)} (they hold ${tensors.size}, e.g. ${sample || '(none)'}); check config.json matches the weights`);
    }
    byFile.set(info.file, [...(byFile.get(info.file) ?? []), name]);
  }
  const loaded = new Map<string, TensorData>();
  for (const [file, fileNames] of byFile) {
    for (const [name, tensor] of await readSafetensors(file, fileNames)) loaded.set(name, tensor);
  }
  return new Map(wanted.map((name) => [name, loaded.get(name)!]));
}

/**
 * Each weights file of `modelDir` with the tensor names the index assigns to it
 * (undefined for a single file: all of its tensors). `model.safetensors` wins over an
 * index when both exist, as in transformers.
 */
async function locateWeightFiles(modelDir: string): Promise<Map<string, string[] | undefined>> {
  const single = join(modelDir, SINGLE_WEIGHTS_FILE);
  if (await exists(single)) return new Map([[single, undefined]]);
  const indexFile = join(modelDir, WEIGHTS_INDEX_FILE);
  if (!(await exists(indexFile))) {
    throw new UserError(`${modelDir}: neither ${SINGLE_WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE} found; point the model path at a Hugging Face folder with safetensors weights (convert .bin weights with save_pretrained(safe_serialization=True))`);
  }
  const weightMap = parseWeightMap(indexFile, await fsp.readFile(indexFile, 'utf8'));
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  const out = new Map<string, string[]>();
  for (const [shard, names] of byShard) {
    const file = join(modelDir, shard);
    if (!(await exists(file))) {
      throw new UserError(`${indexFile}: weight_map refers to shard ${quoteName(shard)}, which is missing from ${modelDir}; the download is incomplete, download the model again`);
    }
    out.set(file, names);
  }
  return out;
}

function parseWeightMap(indexFile: string, text: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${indexFile}: not valid JSON (${(err as Error).message}); download the model again`);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new UserError(`${indexFile}: missing "weight_map" object (tensor name -> shard file); download the model again`);
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    // A shard is a file next to the index; a path elsewhere is a broken or hostile index.
    if (typeof shard !== 'string' || shard !== basename(shard) || shard === '..' || shard === '.' || shard === '') {
      throw new UserError(`${indexFile}: weight_map[${quoteName(name)}] is ${quoteValue(shard)}; expected a file name in the same folder`);
    }
  }
  return weightMap as Record<string, string>;
}

export interface WriteModelWeightsOptions {
  dtype: WritableDtype;
  maxShardBytes?: number;
}

/**
 * Writes `tensors` into `modelDir` (created if needed) as `model.safetensors`, or as
 * shards plus index when they exceed `maxShardBytes`. Weights files of an earlier save
 * that the new layout does not use are removed, so a loader cannot pick up stale ones.
 * Returns the paths written.
 */
export async function writeModelWeights(modelDir: string, tensors: Map<string, TensorData>, opts: WriteModelWeightsOptions): Promise<string[]> {
  const maxShardBytes = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  assert(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0, `maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  await fsp.mkdir(modelDir, { recursive: true });
  const shards = planShards(tensors, opts.dtype, maxShardBytes);

  const written: string[] = [];
  if (shards.length === 1) {
    const file = join(modelDir, SINGLE_WEIGHTS_FILE);
    await writeSafetensors(file, shards[0], { dtype: opts.dtype });
    written.push(file);
  } else {
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (const [i, shard] of shards.entries()) {
      const name = `model-${pad5(i + 1)}-of-${pad5(shards.length)}.safetensors`;
      const file = join(modelDir, name);
      await writeSafetensors(file, shard, { dtype: opts.dtype });
      written.push(file);
      for (const [tensorName, tensor] of shard) {
        weightMap[tensorName] = name;
        totalSize += storedBytes(tensor, opts.dtype);
      }
    }
    // The index goes last, so it never lists a shard that is not fully written.
    const index = join(modelDir, WEIGHTS_INDEX_FILE);
    const text = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2);
    const tmp = `${index}.tmp-${process.pid}`;
    await fsp.writeFile(tmp, text + '\n');
    await fsp.rename(tmp, index);
    written.push(index);
  }
  await removeStaleWeights(modelDir, written);
  return written;
}

/** Greedy packing in sorted-name order; a tensor larger than the limit gets a shard of its own. */
function planShards(tensors: Map<string, TensorData>, dtype: WritableDtype, maxShardBytes: number): Map<string, TensorData>[] {
  const shards: Map<string, TensorData>[] = [new Map()];
  let currentBytes = 0;
  for (const name of [...tensors.keys()].sort()) {
    const tensor = tensors.get(name)!;
    const bytes = storedBytes(tensor, dtype);
    if (currentBytes > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(new Map());
      currentBytes = 0;
    }
    shards[shards.length - 1].set(name, tensor);
    currentBytes += bytes;
  }
  return shards;
}

async function removeStaleWeights(modelDir: string, keep: string[]): Promise<void> {
  const kept = new Set(keep.map((f) => basename(f)));
  for (const name of await fsp.readdir(modelDir)) {
    const isWeights = name === SINGLE_WEIGHTS_FILE || name === WEIGHTS_INDEX_FILE || SHARD_FILE.test(name);
    if (isWeights && !kept.has(name)) await fsp.rm(join(modelDir, name), { force: true });
  }
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(() => true, () => false);
}
