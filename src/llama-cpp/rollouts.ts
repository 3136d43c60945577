// Rollouts through llama.cpp: the policy's current weights written as GGUF, loaded, and G
// completions per prompt decoded in one batch of sequences, with our sampling settings and
// per-row seeds. Old log-probabilities stay computed by our own engine, so the GRPO ratio is
// exact whatever llama.cpp's rounding; only which completions are drawn goes through it (as
// TRL's rollouts go through vLLM).
import { promises as fsp } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ControlledEvaluateInputItem, LlamaModel, Token } from 'node-llama-cpp';
import type { CausalLM } from '../model/causal-lm';
import type { Completion, FinishReason, GenerateOptions } from '../model/generate';
import { scratchDir } from '../engine/scratch-dir';
import { mergedTensors } from '../model/merge';
import { Rng } from '../model/rng';
import { StopStringMatcher } from '../model/stop-strings';
import { writePolicyGguf, type GgufWeights } from './gguf-policy';
import type { NativeLlama } from './native';

/** Seconds spent making the policy llama.cpp's, for the bench and the log. */
export interface WeightSync {
  writeSeconds: number;
  loadSeconds: number;
}

/** llama.cpp's most sequences in one context (LLAMA_MAX_SEQ). */
const MAX_SEQUENCES = 256;

/**
 * Attention in F32: llama.cpp's CPU flash attention and its default F16 cache move
 * log-probabilities by ~4e-3; without them they match ours within ~3e-6 (gguf test).
 */
export const EXACT_ATTENTION = { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as const;

export class LlamaCppRollouts {
  private model: LlamaModel | undefined;
  private parameters = 0;
  private readonly file: string;

  private constructor(
    private readonly llama: NativeLlama,
    private readonly dir: string,
    readonly weights: GgufWeights,
  ) {
    this.file = join(dir, 'policy.gguf');
  }

  static async create(llama: NativeLlama, weights: GgufWeights): Promise<LlamaCppRollouts> {
    return new LlamaCppRollouts(llama, await scratchDir('grpo-rollout'), weights);
  }

  /**
   * Hands llama.cpp the policy as it is now (LoRA adapters merged): after every optimizer
   * step, as TRL pushes weights to vLLM. The file is rewritten whole; at 135M parameters in
   * F32 that is 0.5 GB, a small share of an iteration at that size.
   */
  async syncPolicy(policy: CausalLM): Promise<WeightSync> {
    const started = performance.now();
    const tensors = await mergedTensors(policy);
    await this.model?.dispose();
    this.model = undefined;
    await writePolicyGguf(this.file, policy.config, tensors, this.weights);
    const written = performance.now();
    // mmap off: the file is rewritten next iteration, and a mapping would pin the old pages.
    this.model = await this.llama.loadModel({ modelPath: this.file, gpuLayers: 0, useMmap: false });
    this.parameters = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
    return { writeSeconds: (written - started) / 1000, loadSeconds: (performance.now() - written) / 1000 };
  }

  /** completions[prompt][member], as generate() returns them. */
  async generate(prompts: number[][], opts: GenerateOptions): Promise<Completion[][]> {
    if (!this.model) throw new Error('internal error: llama.cpp rollouts before syncPolicy');
    const g = opts.groupSize;
    const rows = prompts.length * g;
    const longestPrompt = Math.max(1, ...prompts.map((p) => p.length));
    const width = Math.min(rows, MAX_SEQUENCES);
    const context = await this.model.createContext({
      sequences: width,
      contextSize: longestPrompt + opts.maxNewTokens + 1,
      batchSize: Math.min(2048, Math.max(width, longestPrompt * width)),
      threads: decodeThreads(this.parameters),
      ...EXACT_ATTENTION,
    } as Parameters<LlamaModel['createContext']>[0]);
    try {
      const eos = new Set(opts.eosTokenIds);
      const stop = opts.stopStrings?.length ? new StopStringMatcher(opts.stopStrings, opts.decode) : undefined;
      const out: Completion[][] = prompts.map(() => new Array<Completion>(g));
      // Lockstep: every unfinished row asks for its next token in the same tick, so
      // node-llama-cpp decodes them as one batch (rows that queue at different times are
      // decoded in separate batches: 2.6x slower for 32 rows of a 25M model), and the batches
      // are the same from run to run. More rows than llama.cpp's sequences go in waves, each row on sequence r % width.
      const sequences = Array.from({ length: width }, () => context.getSequence());
      const ids: number[][] = Array.from({ length: rows }, () => []);
      for (let wave = 0; wave < rows; wave += width) {
        if (wave > 0) await Promise.all(sequences.map((s) => s.clearHistory()));
        let live = Array.from({ length: Math.min(width, rows - wave) }, (_, i) => wave + i);
        for (let step = 0; live.length > 0; step++) {
          const next = await Promise.all(live.map(async (r) => {
            const p = Math.floor(r / g);
            // Step 0 feeds the prompt (a prompt of no tokens still needs a position to predict from).
            const input = step === 0 ? (prompts[p].length > 0 ? prompts[p] : [opts.padTokenId]) : [ids[r][ids[r].length - 1]];
            const items: ControlledEvaluateInputItem[] = input.map((t) => t as Token);
            items[items.length - 1] = [input[input.length - 1] as Token, { generateNext: { token: true, options: sampler(opts, stepSeed(opts.seed, p, r % g, step)) } }];
            const result = await sequences[r % width].controlledEvaluate(items);
            const token = result[items.length - 1]?.next?.token;
            if (token === undefined || token === null) throw new Error(`llama.cpp returned no token for row ${r} at step ${step}`);
            return token as number;
          }));
          const still: number[] = [];
          live.forEach((r, i) => {
            const token = next[i];
            ids[r].push(token);
            const stopAt = stop?.check(ids[r]);
            let reason: FinishReason | undefined;
            if (eos.has(token)) reason = 'eos';
            else if (stopAt !== undefined) reason = 'stop';
            else if (ids[r].length >= opts.maxNewTokens) reason = 'length';
            if (reason) out[Math.floor(r / g)][r % g] = { ids: ids[r], finishReason: reason, ...(reason === 'stop' ? { stopTextLength: stopAt } : {}) };
            else still.push(r);
          });
          live = still;
          if (wave + width >= rows) opts.onStep?.({ step: step + 1, maxNewTokens: opts.maxNewTokens, activeRows: live.length, totalRows: rows });
        }
      }
      return out;
    } finally {
      await context.dispose();
    }
  }

  async close(): Promise<void> {
    await this.model?.dispose();
    this.model = undefined;
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Threads for llama.cpp's decoding. Measured on 2 cores, 32 rows x 64 tokens: the 0.33M demo
 * decodes 3,490 tok/s on one thread and 1,750 on two (each step is too little work to share),
 * a 25M llama 271 on one and 447 on two.
 */
function decodeThreads(parameters: number): number {
  return parameters < 5e6 ? 1 : availableParallelism();
}

/**
 * The seed of row (p, g)'s sampler at one step. Each step's token comes from a fresh llama.cpp
 * sampler, so each gets its own seed; it depends on the seed and the row's place only.
 */
function stepSeed(seed: number, prompt: number, member: number, step: number): number {
  return Rng.derive(seed, prompt, member, step).nextUint32();
}

/**
 * Our sampling settings as llama.cpp's. Unset fields get node-llama-cpp's defaults (top-k 40,
 * top-p 0.95), so every one is given; null removes a sampler. Callers check with
 * samplingMismatch() first that llama.cpp's order gives the same distribution.
 */
function sampler(opts: GenerateOptions, seed: number) {
  const none = null as unknown as undefined;
  return {
    temperature: opts.temperature,
    topK: opts.topK > 0 ? opts.topK : none,
    topP: opts.topP < 1 ? opts.topP : none,
    minP: opts.minP,
    seed,
  };
}

/**
 * Why llama.cpp would sample from a different distribution than these settings mean (HF's
 * order: temperature, then top-k, top-p, min-p), or undefined where it samples the same one.
 * llama.cpp applies top-k, top-p and min-p before temperature, which top-k does not mind but
 * top-p and min-p do unless the temperature is 1; its repetition penalty covers only recent
 * tokens of what it evaluated, where HF's covers the prompt and the whole completion.
 */
export function samplingMismatch(s: { temperature: number; topP: number; minP: number; repetitionPenalty: number }): string | undefined {
  if (s.repetitionPenalty !== 1) return 'repetition_penalty is not 1 (llama.cpp penalises recent tokens only)';
  if (s.temperature !== 1 && (s.topP < 1 || s.minP > 0)) return 'top_p or min_p with a temperature other than 1 (llama.cpp applies them before the temperature)';
  return undefined;
}
