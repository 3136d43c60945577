import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { TensorData, readSafetensorsHeader, writeSafetensors } from '../src/model/safetensors';
import { listModelTensors, readModelWeights, writeModelWeights } from '../src/model/weights-files';

const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.map((d) => fsp.rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'weights-files-test-'));
  tempDirs.push(dir);
  return dir;
}

function tensor(shape: number[], start: number): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => start + i) };
}

/** Four tensors of 10, 10, 6 and 2 values (40, 40, 24, 8 bytes in F32); all exact in bfloat16. */
function smallModel(): Map<string, TensorData> {
  return new Map([
    ['model.embed_tokens.weight', tensor([5, 2], 0)],
    ['model.layers.0.mlp.up_proj.weight', tensor([2, 5], 100)],
    ['model.layers.0.input_layernorm.weight', tensor([6], 200)],
    ['model.norm.weight', tensor([2], 240)],
  ]);
}

function assertSameTensors(got: Map<string, TensorData>, want: Map<string, TensorData>): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, t] of want) {
    assert.deepEqual(got.get(name)!.shape, t.shape, name);
    assert.deepEqual([...got.get(name)!.data], [...t.data], name);
  }
}

async function assertUserError(promise: Promise<unknown>, mentions: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof UserError, `not a UserError: ${err.message}`);
    assert.ok(err.message.includes(mentions), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('under the shard limit, one model.safetensors and no index', async () => {
  const dir = await tempDir();
  const written = await writeModelWeights(dir, smallModel(), { dtype: 'F32' });
  assert.deepEqual(written, [join(dir, 'model.safetensors')]);
  assert.deepEqual(await fsp.readdir(dir), ['model.safetensors']);
  assertSameTensors(await readModelWeights(dir), smallModel());
});

test('over the shard limit, numbered shards plus an index with total_size and weight_map, read back whole', async () => {
  const dir = join(await tempDir(), 'nested', 'checkpoint'); // created on demand
  const written = await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 64 });
  // Sorted order, packed greedily into <= 64 bytes: embed (40) + input_layernorm (24) | up_proj (40) + norm (8).
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  assert.deepEqual(written, [...shardNames, 'model.safetensors.index.json'].map((n) => join(dir, n)));
  assert.deepEqual((await fsp.readdir(dir)).sort(), [...shardNames, 'model.safetensors.index.json'].sort());

  const index = JSON.parse(await fsp.readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.equal(index.metadata.total_size, 40 + 40 + 24 + 8);
  assert.deepEqual(index.weight_map, {
    'model.embed_tokens.weight': shardNames[0],
    'model.layers.0.input_layernorm.weight': shardNames[0],
    'model.layers.0.mlp.up_proj.weight': shardNames[1],
    'model.norm.weight': shardNames[1],
  });
  for (const shard of shardNames) {
    assert.equal((await readSafetensorsHeader(join(dir, shard))).metadata.format, 'pt');
  }
  assertSameTensors(await readModelWeights(dir), smallModel());
});

test('a tensor larger than the shard limit gets a shard of its own', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'BF16', maxShardBytes: 10 });
  const index = JSON.parse(await fsp.readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.equal(new Set(Object.values(index.weight_map)).size, 4);
  assert.equal(index.metadata.total_size, (40 + 40 + 24 + 8) / 2);
  // Small integers are exact in bfloat16, so the round trip is exact too.
  assertSameTensors(await readModelWeights(dir), smallModel());
});

test('reading a subset across shards returns those tensors in the order asked', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 64 });
  const got = await readModelWeights(dir, ['model.norm.weight', 'model.embed_tokens.weight']);
  assert.deepEqual([...got.keys()], ['model.norm.weight', 'model.embed_tokens.weight']);
  assert.deepEqual([...got.get('model.norm.weight')!.data], [240, 241]);
});

test('listModelTensors reports file, dtype and shape from headers only', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'BF16', maxShardBytes: 32 }); // 20 + 12 | 20 + 4 bytes
  const info = await listModelTensors(dir);
  assert.equal(info.size, 4);
  assert.deepEqual(info.get('model.layers.0.mlp.up_proj.weight'), {
    file: join(dir, 'model-00002-of-00002.safetensors'),
    dtype: 'BF16',
    shape: [2, 5],
  });
});

test('saving again with another layout removes the stale weights files', async () => {
  const dir = await tempDir();
  await fsp.writeFile(join(dir, 'config.json'), '{}');
  await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 10 }); // 4 shards
  await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 64 }); // 2 shards
  assert.deepEqual((await fsp.readdir(dir)).sort(), [
    'config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json',
  ]);
  assertSameTensors(await readModelWeights(dir), smallModel());
  await writeModelWeights(dir, smallModel(), { dtype: 'F32' });
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['config.json', 'model.safetensors']);
  assertSameTensors(await readModelWeights(dir), smallModel());
});

test('a folder without weights says which files it looked for', async () => {
  const dir = await tempDir();
  await assertUserError(readModelWeights(dir), dir, /neither model\.safetensors nor model\.safetensors\.index\.json/);
});

test('an index without weight_map is rejected naming the index', async () => {
  const dir = await tempDir();
  const index = join(dir, 'model.safetensors.index.json');
  await fsp.writeFile(index, JSON.stringify({ metadata: { total_size: 0 } }));
  await assertUserError(readModelWeights(dir), index, /missing "weight_map"/);
  await fsp.writeFile(index, '{"weight_map": ');
  await assertUserError(readModelWeights(dir), index, /not valid JSON/);
});

test('an index pointing outside the folder is rejected', async () => {
  const dir = await tempDir();
  const index = join(dir, 'model.safetensors.index.json');
  await fsp.writeFile(index, JSON.stringify({ weight_map: { w: '../elsewhere.safetensors' } }));
  await assertUserError(readModelWeights(dir), index, /weight_map\["w"\] is "\.\.\/elsewhere\.safetensors"/);
});

test('a missing shard is named along with the index', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 64 });
  await fsp.rm(join(dir, 'model-00002-of-00002.safetensors'));
  await assertUserError(readModelWeights(dir), join(dir, 'model.safetensors.index.json'), /shard "model-00002-of-00002\.safetensors", which is missing/);
});

test('a tensor the index assigns to a shard that lacks it is rejected', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'F32', maxShardBytes: 64 });
  await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), new Map([['other', tensor([1], 0)]]), { dtype: 'F32' });
  await assertUserError(readModelWeights(dir), join(dir, 'model.safetensors.index.json'), /"model\.layers\.0\.mlp\.up_proj\.weight" in model-00002-of-00002\.safetensors, which does not contain it/);
});

test('asking for a tensor the model lacks lists some it has', async () => {
  const dir = await tempDir();
  await writeModelWeights(dir, smallModel(), { dtype: 'F32' });
  await assertUserError(readModelWeights(dir, ['lm_head.weight']), dir, /no tensor "lm_head\.weight" \(they hold 4, e\.g\. "model\./);
});
