// Batched generation with a shared-prefill KV cache must agree with the full forward pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from './helpers/backend';
import { loadCausalLM } from '../src/model/load';
import type { CausalLM, KVCache } from '../src/model/causal-lm';
import { causalMask, positionsFromValid } from '../src/model/attention-mask';
import { generate, type GenerateOptions } from '../src/model/generate';
import { scoreSequences } from '../src/model/score';
import { argmax, DEFAULT_SAMPLING } from '../src/model/sampling';

const fixtures = join(__dirname, 'fixtures', 'models');
useTestBackend();

function options(over: Partial<GenerateOptions>): GenerateOptions {
  return { ...DEFAULT_SAMPLING, maxNewTokens: 8, groupSize: 1, eosTokenIds: [], padTokenId: 0, seed: 7, ...over };
}

/** Logits at every position of one unpadded sequence, from a full forward without cache. */
function fullLogits(model: CausalLM, ids: number[]): Float32Array[] {
  const flat = tf.tidy(() => {
    const valid = [new Uint8Array(ids.length).fill(1)];
    const { hidden } = model.forward(
      {
        ids: tf.tensor2d(ids, [1, ids.length], 'int32'),
        positions: tf.tensor2d(positionsFromValid(valid, ids.length), [1, ids.length], 'int32'),
        mask: causalMask(valid, ids.length, model.config.slidingWindow),
      },
      false,
    );
    return model.logits(hidden);
  });
  const data = flat.dataSync() as Float32Array;
  flat.dispose();
  const v = model.config.vocabSize;
  return ids.map((_, i) => data.subarray(i * v, (i + 1) * v));
}

const PROMPTS = [
  [1, 5, 9, 33, 2, 71, 40],
  [1, 17, 3],
  [1, 91, 42, 42, 8, 60],
];

for (const [name, window] of [
  ['qwen2-gqa-bias', null],
  ['llama-tied', null],
  ['mistral-bf16', 4], // a window shorter than the sequences exercises sliding-window masking
] as const) {
  test(`${name}${window ? ` (sliding window ${window})` : ''}: greedy generation equals the argmax of a full forward at every step`, async () => {
    const model = await loadCausalLM(join(fixtures, name));
    if (window) (model.config as { slidingWindow: number | null }).slidingWindow = window;
    try {
      const out = await generate(model, PROMPTS, options({ temperature: 0, groupSize: 2, maxNewTokens: 10 }));
      PROMPTS.forEach((prompt, p) => {
        assert.equal(out[p].length, 2);
        assert.deepEqual(out[p][0].ids, out[p][1].ids, 'greedy rows of one group differ');
        const completion = out[p][0].ids;
        assert.equal(completion.length, 10);
        assert.equal(out[p][0].finishReason, 'length');
        const logits = fullLogits(model, [...prompt, ...completion]);
        completion.forEach((token, i) => {
          assert.equal(token, argmax(logits[prompt.length - 1 + i]), `prompt ${p}, step ${i}`);
        });
      });
    } finally {
      model.dispose();
    }
  });
}

test('log-probabilities from step-by-step decoding with the KV cache equal those of one full pass', async () => {
  const model = await loadCausalLM(join(fixtures, 'llama3-rope'));
  try {
    const ids = [1, 12, 86, 61, 62, 76, 77, 10, 55, 93, 43];
    const [full] = await scoreSequences(model, [ids]);
    let cache: KVCache | undefined;
    const valid = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length - 1; i++) {
      valid[i] = 1;
      const rowValid = [valid.subarray(0, i + 1)];
      const out = tf.tidy(() => {
        const r = model.forward(
          {
            ids: tf.tensor2d([ids[i]], [1, 1], 'int32'),
            positions: tf.tensor2d(positionsFromValid(rowValid, 1), [1, 1], 'int32'),
            mask: causalMask(rowValid, 1, null),
            cache,
          },
          true,
        );
        return { logp: tf.logSoftmax(model.logits(r.hidden)), cache: r.cache! };
      });
      if (cache) [...cache.keysT, ...cache.values].forEach((t) => t.dispose());
      cache = out.cache as KVCache;
      const row = (out.logp as tf.Tensor).dataSync();
      (out.logp as tf.Tensor).dispose();
      assert.ok(Math.abs(row[ids[i + 1]] - (full[i + 1] as number)) < 1e-5, `position ${i + 1}`);
    }
    [...cache!.keysT, ...cache!.values].forEach((t) => t.dispose());
  } finally {
    model.dispose();
  }
});

test('sampling is reproducible from its seed and differs across seeds and group rows', async () => {
  const model = await loadCausalLM(join(fixtures, 'qwen2-gqa-bias'));
  try {
    const opts = options({ temperature: 1, groupSize: 4, maxNewTokens: 12, seed: 123 });
    const a = await generate(model, PROMPTS, opts);
    const b = await generate(model, PROMPTS, opts);
    const c = await generate(model, PROMPTS, { ...opts, seed: 124 });
    const ids = (o: typeof a) => o.map((group) => group.map((x) => x.ids));
    assert.deepEqual(ids(a), ids(b));
    assert.notDeepEqual(ids(a), ids(c));
    assert.ok(new Set(a[0].map((x) => x.ids.join(','))).size > 1, 'a group of 4 samples should not be all identical');
    // A prompt's samples depend on its index and the seed, not on the other prompts' contents.
    const alone = await generate(model, [PROMPTS[0]], opts);
    assert.deepEqual(alone[0].map((x) => x.ids), a[0].map((x) => x.ids));
  } finally {
    model.dispose();
  }
});

test('EOS and stop strings end a completion; finished rows are compacted without changing others', async () => {
  const model = await loadCausalLM(join(fixtures, 'qwen2-gqa-bias'));
  try {
    const greedy = await generate(model, PROMPTS, options({ temperature: 0, maxNewTokens: 10 }));
    const eosToken = greedy[0][0].ids[3]; // make the 4th greedy token of prompt 0 an EOS
    const out = await generate(model, PROMPTS, options({ temperature: 0, maxNewTokens: 10, eosTokenIds: [eosToken] }));
    const first = greedy[0][0].ids.indexOf(eosToken);
    assert.deepEqual(out[0][0].ids, greedy[0][0].ids.slice(0, first + 1));
    assert.equal(out[0][0].finishReason, 'eos');
    PROMPTS.forEach((_, p) => {
      const cut = greedy[p][0].ids.indexOf(eosToken);
      assert.deepEqual(out[p][0].ids, cut < 0 ? greedy[p][0].ids : greedy[p][0].ids.slice(0, cut + 1), `prompt ${p}`);
    });

    // Stop strings over a toy decoding: each id is written as "<id>".
    const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join('');
    const target = greedy[1][0].ids.slice(4, 6);
    const stop = decode(target);
    const stopped = await generate(model, [PROMPTS[1]], options({ temperature: 0, maxNewTokens: 10, stopStrings: [stop], decode }));
    const c = stopped[0][0];
    assert.equal(c.finishReason, 'stop');
    assert.deepEqual(c.ids, greedy[1][0].ids.slice(0, 6));
    assert.equal(c.stopTextLength, decode(greedy[1][0].ids.slice(0, 4)).length);
  } finally {
    model.dispose();
  }
});

test('repeated generation leaks no tensors', async () => {
  const model = await loadCausalLM(join(fixtures, 'llama-tied'));
  try {
    const opts = options({ temperature: 0.8, topK: 20, topP: 0.9, groupSize: 3, maxNewTokens: 6, eosTokenIds: [2] });
    await generate(model, PROMPTS, opts);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await generate(model, PROMPTS, { ...opts, seed: i });
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

/** Many EOS ids (as generation_config.json may list) make rows finish at different steps. */
const MANY_EOS = [2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

function promptsOf(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => PROMPTS[i % PROMPTS.length].map((t) => (t + 7 * i) % 96));
}

/** Every completion ends at its first EOS or stop string, or is exactly maxNewTokens long. */
function assertEndsAtFirstStop(out: Awaited<ReturnType<typeof generate>>, maxNewTokens: number, decode?: (ids: number[]) => string, stop?: string): void {
  const eos = new Set(MANY_EOS);
  out.flat().forEach((c, i) => {
    const firstEos = c.ids.findIndex((t) => eos.has(t));
    const stopAt = decode && stop ? decode(c.ids).indexOf(stop) : -1;
    if (c.finishReason === 'eos') {
      assert.equal(firstEos, c.ids.length - 1, `completion ${i} continues past its EOS: ${c.ids}`);
    } else {
      assert.equal(firstEos, -1, `completion ${i} (${c.finishReason}) holds an EOS: ${c.ids}`);
    }
    if (c.finishReason === 'stop') {
      assert.equal(stopAt, c.stopTextLength, `completion ${i}: the stop string is not where it stopped`);
      assert.equal(decode!(c.ids.slice(0, -1)).indexOf(stop!), -1, `completion ${i} continues past its stop string`);
    } else if (stop) {
      assert.equal(stopAt, -1, `completion ${i} (${c.finishReason}) holds the stop string`);
    }
    if (c.finishReason === 'length') assert.equal(c.ids.length, maxNewTokens, `completion ${i}`);
    else assert.ok(c.ids.length <= maxNewTokens);
  });
}

for (const [prompts, group] of [
  [3, 1],
  [4, 16],
  [16, 16],
] as const) {
  test(`no completion continues past its EOS or stop string (${prompts * group} rows, 12 EOS ids), whatever the compaction policy`, async () => {
    const model = await loadCausalLM(join(fixtures, 'llama-tied'));
    try {
      const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join('');
      const stop = '<40>';
      const base = options({ temperature: 1, groupSize: group, maxNewTokens: 24, eosTokenIds: MANY_EOS, seed: 11, stopStrings: [stop], decode });
      const input = promptsOf(prompts);
      const usual = await generate(model, input, base);
      assertEndsAtFirstStop(usual, 24, decode, stop);
      const reasons = usual.flat().map((c) => c.finishReason);
      assert.ok(reasons.includes('eos'), 'some rows should end at an EOS');
      if (prompts * group >= 64) {
        assert.ok(reasons.includes('stop') && reasons.includes('length'), `rows should also stop and run to the limit: ${new Set(reasons)}`);
      }
      // Never compacting (finished rows ride along to the end) and compacting at every finish
      // give the same completions: a finished row produces nothing more either way.
      for (const compactFraction of [1, 1e-9]) {
        const other = await generate(model, input, { ...base, compactFraction });
        assert.deepEqual(other.flat().map((c) => [c.ids, c.finishReason]), usual.flat().map((c) => [c.ids, c.finishReason]), `compactFraction ${compactFraction}`);
      }
    } finally {
      model.dispose();
    }
  });
}
