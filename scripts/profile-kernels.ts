// Where the time of one decode step or one training step goes, kernel by kernel:
//   node --import tsx scripts/profile-kernels.ts [tiny|25m|135m] [decode|train] [ROWS LENGTH]
// (ROWS x LENGTH tokens for train, default 8 x 32: a micro-batch of the bench's is 2 x 96 at 135m)
// A developer's tool for finding the next thing to speed up; `npm run bench` is the benchmark.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { causalMask, positionsFromValid } from '../src/model/attention-mask';
import { CausalLM } from '../src/model/causal-lm';
import { parseModelConfig } from '../src/model/config';
import { freshConfigJson, MODEL_SIZES, randomWeights } from '../src/model/init';
import { paramsFromTensors } from '../src/model/params';
import { tokenLogprobs } from '../src/model/token-logprobs';

const [size = '25m', mode = 'decode', trainRows = '8', trainLength = '32'] = process.argv.slice(2);
const ROWS = 16; // decode: rows of a G x prompts batch
const PAST = 48; // decode: cached positions
const TRAIN = { rows: Number(trainRows), len: Number(trainLength) };

async function main(): Promise<void> {
  await initBackend('wasm');
  const config = parseModelConfig(freshConfigJson('llama', MODEL_SIZES[size], { vocabSize: 512, bosTokenId: 0, eosTokenId: 1 }), size);
  const model = new CausalLM(config, paramsFromTensors(config, randomWeights(config, 1), size));
  const step = mode === 'train' ? () => trainStep(model) : () => decodeStep(model);
  step(); // warm-up
  const started = performance.now();
  const info = await tf.profile(step);
  report(info, performance.now() - started);
}

function decodeStep(model: CausalLM): void {
  tf.tidy(() => {
    const valid = Array.from({ length: ROWS }, () => new Uint8Array(PAST).fill(1));
    const { cache } = model.forward(
      { ids: tf.zeros([ROWS, PAST], 'int32'), positions: tf.tensor2d(positionsFromValid(valid, PAST), [ROWS, PAST], 'int32'), mask: causalMask(valid, PAST, null) },
      true,
    );
    const grown = valid.map(() => new Uint8Array(PAST + 1).fill(1));
    const out = model.forward(
      { ids: tf.zeros([ROWS, 1], 'int32'), positions: tf.tensor2d(positionsFromValid(grown, 1), [ROWS, 1], 'int32'), mask: causalMask(grown, 1, null), cache },
      true,
    );
    model.logits(out.hidden).dataSync();
  });
}

function trainStep(model: CausalLM): void {
  const { rows, len } = TRAIN;
  tf.tidy(() => {
    const valid = Array.from({ length: rows }, () => new Uint8Array(len).fill(1));
    const ids = tf.zeros([rows, len], 'int32') as tf.Tensor2D;
    const { grads } = tf.variableGrads(() => {
      const { hidden } = model.forward({ ids, positions: tf.tensor2d(positionsFromValid(valid, len), [rows, len], 'int32'), mask: causalMask(valid, len, null) }, false);
      return tf.neg(tf.mean(tokenLogprobs(model.logits(hidden), ids))) as tf.Scalar;
    });
    for (const g of Object.values(grads)) g.dataSync();
  });
}

function report(info: tf.ProfileInfo, wallMs: number): void {
  const byKernel = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    const key = k.name.includes('MatMul') ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const e = byKernel.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += Number(k.kernelTimeMs) || 0;
    byKernel.set(key, e);
  }
  console.log(`${size} ${mode}: ${wallMs.toFixed(0)} ms wall (profiling included), ${info.kernels.length} kernel calls`);
  for (const [key, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    console.log(`${e.ms.toFixed(1).padStart(9)} ms ${String(e.calls).padStart(5)}x  ${key}`);
  }
}

void main();
