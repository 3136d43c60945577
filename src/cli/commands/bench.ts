import * as tf from '@tensorflow/tfjs-core';
import * as os from 'node:os';
import { UserError } from '../../errors';
import { CausalLM } from '../../model/causal-lm';
import { parseModelConfig } from '../../model/config';
import { generate } from '../../model/generate';
import { freshConfigJson, MODEL_SIZES, randomWeights } from '../../model/init';
import { countParameters, paramsFromTensors } from '../../model/params';
import { Rng } from '../../model/rng';
import { DEFAULT_SAMPLING } from '../../model/sampling';
import { tokenLogprobs } from '../../model/token-logprobs';
import { causalMask, positionsFromValid } from '../../model/attention-mask';
import { numberFlag } from '../args';
import { parseFlags } from '../flags';
import { BACKEND_FLAG, startBackend } from '../session';
import { forwardFlops, matmulPeak } from './bench-flops';
import { BENCH_ITERATION_HELP, benchIteration } from './bench-iteration';

export const BENCH_HELP = `grpo bench [--sizes tiny,25m,135m] [--prompts P] [--group G] [--prompt-len L] [--new-tokens N] [--json] [--backend B]

For each named model size (random weights, made in memory): prefill and decode tokens/s
for P prompts x G samples, the forward+backward time of a training batch, and achieved
GFLOP/s as a share of this backend's measured matmul peak.

${BENCH_ITERATION_HELP}`;

interface SizeResult {
  size: string;
  params_m: number;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  train_batch: string;
  train_step_ms: number;
  train_gflops: number;
  train_share_of_peak: number;
}

export async function benchCommand(argv: string[]): Promise<void> {
  const c = 'bench';
  const v = parseFlags(c, argv, {
    sizes: { type: 'string' },
    prompts: { type: 'string' },
    group: { type: 'string' },
    'prompt-len': { type: 'string' },
    'new-tokens': { type: 'string' },
    json: { type: 'boolean' },
    ...BACKEND_FLAG,
    // The whole-iteration mode (bench-iteration.ts).
    model: { type: 'string' },
    size: { type: 'string' },
    'prompt-tokens': { type: 'string' },
    'rollout-engine': { type: 'string' },
    'rollout-weights': { type: 'string' },
    'update-threads': { type: 'string' },
    'gradient-checkpointing': { type: 'string' },
  });
  if (v.model !== undefined || v.size !== undefined) return benchIteration(v);
  for (const flag of ['rollout-engine', 'rollout-weights', 'update-threads', 'gradient-checkpointing']) {
    if (v[flag] !== undefined) throw new UserError(`--${flag} belongs to the whole-iteration bench: give --model DIR or --size S with it`);
  }
  if (v['prompt-tokens'] !== undefined) throw new UserError('--prompt-tokens belongs to the whole-iteration bench: give --model DIR or --size S with it (the per-size bench takes --prompt-len)');
  const sizes = ((v.sizes as string | undefined) ?? 'tiny,25m,135m').split(',');
  for (const s of sizes) if (!MODEL_SIZES[s]) throw new UserError(`unknown size "${s}"; known: ${Object.keys(MODEL_SIZES).join(', ')}`);
  const prompts = numberFlag(v, 'prompts', 4, { min: 1, integer: true });
  const group = numberFlag(v, 'group', 4, { min: 1, integer: true });
  const promptLen = numberFlag(v, 'prompt-len', 32, { min: 1, integer: true });
  const newTokens = numberFlag(v, 'new-tokens', 32, { min: 2, integer: true });
  const backend = await startBackend(v);
  const log = (line: string) => v.json || process.stdout.write(line + '\n');

  const peak = await matmulPeak();
  log(`GRPO Studio bench — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'})`);
  log(`matmul peak (1024x1024x1024, best of 5): ${peak.toFixed(1)} GFLOP/s`);
  log(`generation: ${prompts} prompts x ${group} samples, prompt ${promptLen} tokens, ${newTokens} new tokens`);
  log('');
  log('size    params   prefill tok/s  decode tok/s   train batch  fwd+bwd ms   GFLOP/s  % of peak');
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const config = parseModelConfig(freshConfigJson('llama', MODEL_SIZES[size], { vocabSize: 512, bosTokenId: 0, eosTokenId: 1 }), `bench:${size}`);
    const model = new CausalLM(config, paramsFromTensors(config, randomWeights(config, 1), `bench:${size}`));
    try {
      const gen = await benchGeneration(model, prompts, group, promptLen, newTokens);
      // Training batches shrink with the model so the whole bench stays within minutes.
      const [rows, len] = size === '135m' ? [4, 32] : size === '25m' ? [8, 32] : [8, 64];
      const stepMs = await benchTrainStep(model, rows, len);
      const gflops = (3 * forwardFlops(config, rows, len)) / (stepMs / 1000) / 1e9;
      const r: SizeResult = {
        size,
        params_m: countParameters(model.params) / 1e6,
        prefill_tokens_per_s: gen.prefill,
        decode_tokens_per_s: gen.decode,
        train_batch: `${rows}x${len}`,
        train_step_ms: stepMs,
        train_gflops: gflops,
        train_share_of_peak: gflops / peak,
      };
      results.push(r);
      log(
        `${size.padEnd(6)} ${r.params_m.toFixed(1).padStart(6)}M ${r.prefill_tokens_per_s.toFixed(0).padStart(14)} ${r.decode_tokens_per_s.toFixed(1).padStart(13)} ` +
          `${r.train_batch.padStart(13)} ${r.train_step_ms.toFixed(0).padStart(11)} ${r.train_gflops.toFixed(1).padStart(9)} ${(100 * r.train_share_of_peak).toFixed(0).padStart(9)}%`,
      );
    } finally {
      model.dispose();
    }
  }
  if (v.json) process.stdout.write(JSON.stringify({ backend: backend.name, matmul_peak_gflops: peak, results }) + '\n');
}

async function benchGeneration(model: CausalLM, n: number, group: number, promptLen: number, newTokens: number) {
  const rng = new Rng(3);
  const ids = Array.from({ length: n }, () => Array.from({ length: promptLen }, () => 2 + rng.int(model.config.vocabSize - 2)));
  const opts = { ...DEFAULT_SAMPLING, maxNewTokens: newTokens, groupSize: group, eosTokenIds: [], padTokenId: 0, seed: 1 };
  await generate(model, ids, { ...opts, maxNewTokens: 2 }); // warm-up: kernels and caches
  const start = performance.now();
  let firstToken = 0;
  await generate(model, ids, { ...opts, onStep: (p) => p.step === 1 && (firstToken = performance.now()) });
  const end = performance.now();
  return {
    prefill: (n * promptLen) / ((firstToken - start) / 1000),
    decode: (n * group * (newTokens - 1)) / ((end - firstToken) / 1000),
  };
}

/** Median ms of one forward+backward of the mean token log-probability. */
async function benchTrainStep(model: CausalLM, rows: number, len: number): Promise<number> {
  const rng = new Rng(5);
  const ids = Int32Array.from({ length: rows * len }, () => rng.int(model.config.vocabSize));
  const valid = Array.from({ length: rows }, () => new Uint8Array(len).fill(1));
  const vars = [...model.params.values()];
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    const { value, grads } = tf.tidy(() => {
      const input = tf.tensor2d(ids, [rows, len], 'int32');
      const positions = tf.tensor2d(positionsFromValid(valid, len), [rows, len], 'int32');
      const mask = causalMask(valid, len, null);
      return tf.variableGrads(() => {
        const { hidden } = model.forward({ ids: input, positions, mask }, false);
        return tf.neg(tf.mean(tokenLogprobs(model.logits(hidden), input))) as tf.Scalar;
      }, vars);
    });
    // Read with data(): a sync point on every backend, webgpu included.
    await value.data();
    for (const g of Object.values(grads)) await g.data();
    tf.dispose([value, ...Object.values(grads)]);
    if (i > 0) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
