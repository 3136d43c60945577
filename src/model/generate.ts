import * as tf from '@tensorflow/tfjs-core';
import { causalMask, positionsFromValid } from './attention-mask';
import type { CausalLM, KVCache } from './causal-lm';
import { Rng } from './rng';
import { sampleToken, type SamplingOptions } from './sampling';
import { StopStringMatcher } from './stop-strings';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  groupSize: number; // completions per prompt (GRPO's G)
  eosTokenIds: number[];
  padTokenId: number;
  seed: number;
  stopStrings?: string[];
  decode?: (ids: number[]) => string; // needed for stop strings
  onStep?: (progress: GenerateProgress) => void;
  /**
   * Once this share of the cached rows has finished, the cache is compacted to the unfinished
   * ones (default 0.25): compacting costs a gather of the whole cache, keeping finished rows
   * costs their share of every later step. It changes speed only, never the completions.
   */
  compactFraction?: number;
}

export interface GenerateProgress {
  step: number;
  maxNewTokens: number;
  activeRows: number;
  totalRows: number;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface Completion {
  ids: number[]; // generated tokens, including the EOS or the token that completed a stop string
  finishReason: FinishReason;
  stopTextLength?: number; // with a stop string: characters of decoded text before it
}

/** A completion's text: decoded, and cut before the stop string that ended it. */
export function completionText(c: Completion, decode: (ids: number[]) => string): string {
  const text = decode(c.ids);
  return c.stopTextLength !== undefined ? text.slice(0, c.stopTextLength) : text;
}

const COMPACT_FRACTION = 0.25;

/**
 * Samples `groupSize` completions for each prompt, all prompts in one batch.
 * Each prompt is prefilled once; its cache is then shared by its group's rows.
 * Row (p, g) draws from its own stream Rng.derive(seed, p, g), so a completion depends on
 * its prompt, its place in the batch and the seed, not on the other prompts' contents
 * (up to float rounding, which can differ with the batch's padded length).
 * Returns completions[prompt][sample].
 */
export async function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Promise<Completion[][]> {
  const g = opts.groupSize;
  const window = model.config.slidingWindow;
  const lmHead = tf.tidy(() => model.lmHead());
  const rows = prompts.length * g;
  const out: Completion[][] = prompts.map(() => []);
  const rowPrompt = Array.from({ length: rows }, (_, r) => Math.floor(r / g));
  const rowIds: number[][] = Array.from({ length: rows }, () => []);
  const rowRng = rowPrompt.map((p, r) => Rng.derive(opts.seed, p, r % g));
  const stop = opts.stopStrings?.length ? new StopStringMatcher(opts.stopStrings, opts.decode) : undefined;

  // Prefill: prompts left-padded to one length, so every row's next token is at the end.
  const promptLen = Math.max(1, ...prompts.map((p) => p.length));
  const valid = prompts.map((p) => {
    const v = new Uint8Array(promptLen);
    v.fill(1, promptLen - p.length);
    return v;
  });
  const ids = new Int32Array(prompts.length * promptLen).fill(opts.padTokenId);
  prompts.forEach((p, i) => ids.set(p, i * promptLen + promptLen - p.length));
  const prefill = tf.tidy(() => {
    const { hidden, cache } = model.forward(
      {
        ids: tf.tensor2d(ids, [prompts.length, promptLen], 'int32'),
        positions: tf.tensor2d(positionsFromValid(valid, promptLen), [prompts.length, promptLen], 'int32'),
        mask: causalMask(valid, promptLen, window),
      },
      true,
    );
    const last = tf.slice(hidden, [0, promptLen - 1, 0], [-1, 1, -1]) as tf.Tensor3D;
    // Each prompt's cache is repeated for the G rows of its group.
    const expand = tf.tensor1d(rowPrompt, 'int32');
    return {
      logits: model.logits(last, lmHead),
      cache: {
        keysT: cache!.keysT.map((k) => tf.gather(k, expand)),
        values: cache!.values.map((v) => tf.gather(v, expand)),
      },
    };
  });
  const promptLogits = (await prefill.logits.data()) as Float32Array;
  prefill.logits.dispose();
  const vocab = model.config.vocabSize;
  let cache: KVCache = prefill.cache as KVCache;
  let logits: Float32Array = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) logits.set(promptLogits.subarray(rowPrompt[r] * vocab, (rowPrompt[r] + 1) * vocab), r * vocab);

  // Rows in the cache: index into the cache -> row id. A finished row may stay in the cache
  // until the next compaction, but it is never sampled again: `finished` is the only
  // authority on whether a row still produces tokens, whatever the compaction policy.
  let live = Array.from({ length: rows }, (_, r) => r);
  let liveValid = rowPrompt.map((p) => valid[p]);
  const finished = new Uint8Array(rows);
  let unfinished = rows;
  let finishedSinceCompact = 0;
  const eos = new Set(opts.eosTokenIds);

  for (let step = 0; step < opts.maxNewTokens && unfinished > 0; step++) {
    const next = new Int32Array(live.length).fill(opts.padTokenId);
    const stillLive: boolean[] = [];
    live.forEach((r, i) => {
      if (finished[r]) {
        stillLive.push(false); // kept in the cache for now, fed padding, its output ignored
        return;
      }
      const row = logits.subarray(i * vocab, (i + 1) * vocab);
      const seen = opts.repetitionPenalty !== 1 ? [...prompts[rowPrompt[r]], ...rowIds[r]] : [];
      const token = sampleToken(row, seen, opts, rowRng[r]);
      rowIds[r].push(token);
      next[i] = token;
      const stopAt = stop?.check(rowIds[r]);
      let reason: FinishReason | undefined;
      if (eos.has(token)) reason = 'eos';
      else if (stopAt !== undefined) reason = 'stop';
      else if (rowIds[r].length >= opts.maxNewTokens) reason = 'length';
      if (reason) {
        out[rowPrompt[r]][r % g] = { ids: rowIds[r], finishReason: reason, ...(reason === 'stop' ? { stopTextLength: stopAt } : {}) };
        finished[r] = 1;
        unfinished--;
        finishedSinceCompact++;
      }
      stillLive.push(reason === undefined);
    });
    opts.onStep?.({ step: step + 1, maxNewTokens: opts.maxNewTokens, activeRows: unfinished, totalRows: rows });
    if (unfinished === 0) break;

    let inputIds = next;
    if (finishedSinceCompact >= Math.max(1, Math.ceil((opts.compactFraction ?? COMPACT_FRACTION) * live.length))) {
      // Drop finished rows from the cache so later steps compute only live rows.
      const keep = stillLive.flatMap((alive, i) => (alive ? [i] : []));
      const old = cache;
      cache = tf.tidy(() => {
        const idx = tf.tensor1d(keep, 'int32');
        return { keysT: old.keysT.map((k) => tf.gather(k, idx)), values: old.values.map((v) => tf.gather(v, idx)) };
      }) as KVCache;
      disposeCache(old);
      live = keep.map((i) => live[i]);
      liveValid = keep.map((i) => liveValid[i]);
      inputIds = Int32Array.from(keep, (i) => next[i]);
      finishedSinceCompact = 0;
    }

    liveValid = liveValid.map((v) => {
      const grown = new Uint8Array(v.length + 1);
      grown.set(v);
      grown[v.length] = 1;
      return grown;
    });
    const n = live.length;
    const old = cache;
    const stepOut = tf.tidy(() => {
      const { hidden, cache: grown } = model.forward(
        {
          ids: tf.tensor2d(inputIds, [n, 1], 'int32'),
          positions: tf.tensor2d(positionsFromValid(liveValid, 1), [n, 1], 'int32'),
          mask: causalMask(liveValid, 1, window),
          cache: old,
        },
        true,
      );
      return { logits: model.logits(hidden, lmHead), cache: grown! };
    });
    disposeCache(old);
    cache = stepOut.cache as KVCache;
    logits = (await stepOut.logits.data()) as Float32Array;
    stepOut.logits.dispose();
  }
  disposeCache(cache);
  if (model.config.tieWordEmbeddings) lmHead.dispose(); // untied, it is the parameter itself
  return out;
}

function disposeCache(cache: KVCache): void {
  for (const t of cache.keysT) t.dispose();
  for (const t of cache.values) t.dispose();
}
