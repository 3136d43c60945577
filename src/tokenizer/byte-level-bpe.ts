import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHATML_TEMPLATE } from './chat-template';

/**
 * GPT-2's byte alphabet: byte b is written as BYTE_SYMBOLS[b], a printable character, so that
 * every token is a visible string. Printable Latin-1 bytes stand for themselves; the rest
 * (controls, space, ...) are moved to U+0100 upwards in byte order, which is why a space is "Ġ".
 */
export const BYTE_SYMBOLS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
})();

/** The GPT-2 pre-tokenizer split (contractions, letters, digits, other, spaces), as ByteLevel's use_regex applies it. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Enough English, digits and chat words for a few hundred useful merges in a fresh model. */
const DEFAULT_CORPUS = `
The quick brown fox jumps over the lazy dog. A model learns to answer questions, one token at a time.
When the answer is right, the reward is high; when it is wrong, the reward is low, and the policy
moves toward the answers that scored better than the others in their group.
Question: What is 12 + 7? Answer: 19. Question: What is 3 * 8? Answer: 24. What is 100 - 45? It is 55.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 20 25 30 40 50 64 100 128 256 512 1000 2024.
The system gives instructions, the user asks, and the assistant replies. Think step by step, then
write the final answer inside <answer> and </answer>. Let us count: one, two, three, four, five, six,
seven, eight, nine, ten. This is a test of the tokenizer; these are the words that are used there
and then, with some of them in other forms: training, trained, trains, learning, learned, reasoning.
If you have an idea of what a good answer is, you can write it as a function and score each reply.
`;

const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/**
 * Writes a tokenizer folder for a freshly initialised model: a GPT-2 style byte-level BPE
 * (`tokenizer.json`) with `merges` rules learned from `corpus`, the special tokens
 * <|endoftext|>, <|im_start|> and <|im_end|>, `tokenizer_config.json` (with a ChatML template
 * unless `chatTemplate` is false) and `special_tokens_map.json`, in the schema transformers writes.
 * <|endoftext|> is BOS and PAD; EOS is <|im_end|> with the chat template (a turn ends there),
 * otherwise <|endoftext|>.
 */
export async function writeByteLevelTokenizer(
  dir: string,
  opts: { merges?: number; corpus?: string; chatTemplate?: boolean; modelMaxLength?: number } = {},
): Promise<{ vocabSize: number; bosTokenId: number; eosTokenId: number; padTokenId: number }> {
  const chatTemplate = opts.chatTemplate ?? true;
  const merges = learnMerges(opts.corpus ?? DEFAULT_CORPUS, opts.merges ?? 256);

  const vocab: Record<string, number> = {};
  let nextId = 0;
  for (const symbol of [...BYTE_SYMBOLS, ...merges.map(([a, b]) => a + b)]) {
    if (!(symbol in vocab)) vocab[symbol] = nextId++;
  }
  const specialIds = Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, nextId + i])) as Record<(typeof SPECIAL_TOKENS)[number], number>;
  const vocabSize = nextId + SPECIAL_TOKENS.length;

  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: specialIds[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null, // every byte has a symbol, so nothing is unknown
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`), // byte symbols never contain a space
    },
  };

  const bos = '<|endoftext|>';
  const eos = chatTemplate ? '<|im_end|>' : '<|endoftext|>';
  const pad = '<|endoftext|>';
  const addedToken = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast', // loads from tokenizer.json alone
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    bos_token: bos,
    eos_token: eos,
    pad_token: pad,
    unk_token: null,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    clean_up_tokenization_spaces: false, // decode(encode(text)) must give text back exactly
    model_max_length: opts.modelMaxLength ?? 2048,
    added_tokens_decoder: Object.fromEntries(SPECIAL_TOKENS.map((t) => [String(specialIds[t]), { ...addedToken(t), special: true }])),
    ...(chatTemplate ? { chat_template: CHATML_TEMPLATE } : {}),
  };
  const specialTokensMap = {
    bos_token: addedToken(bos),
    eos_token: addedToken(eos),
    pad_token: addedToken(pad),
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'].map(addedToken),
  };

  await mkdir(dir, { recursive: true });
  const write = (name: string, json: unknown) => writeFile(join(dir, name), JSON.stringify(json, null, 2) + '\n');
  await write('tokenizer.json', tokenizerJson);
  await write('tokenizer_config.json', tokenizerConfig);
  await write('special_tokens_map.json', specialTokensMap);
  return { vocabSize, bosTokenId: specialIds[bos], eosTokenId: specialIds[eos], padTokenId: specialIds[pad] };
}

/**
 * Learns up to `count` BPE merges by repeatedly merging the most frequent adjacent pair of
 * symbols within the words of `corpus` (ties go to the pair that sorts first, so the result is
 * deterministic). Stops early when no pair is left. Cost is count x distinct words: meant for
 * corpora of kilobytes to a few megabytes.
 */
export function learnMerges(corpus: string, count: number): [string, string][] {
  const wordCounts = new Map<string, number>();
  for (const word of corpus.match(GPT2_SPLIT) ?? []) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  const encoder = new TextEncoder();
  const words = [...wordCounts].map(([word, n]) => ({ symbols: [...encoder.encode(word)].map((b) => BYTE_SYMBOLS[b]), n }));

  const merges: [string, string][] = [];
  while (merges.length < count) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + n);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, n] of pairCounts) {
      if (n > bestCount || (n === bestCount && best !== undefined && key < best)) [best, bestCount] = [key, n];
    }
    if (best === undefined) break;
    const [a, b] = best.split(' ');
    merges.push([a, b]);
    for (const word of words) word.symbols = mergePair(word.symbols, a, b);
  }
  return merges;
}

function mergePair(symbols: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
      out.push(a + b);
      i++;
    } else {
      out.push(symbols[i]);
    }
  }
  return out;
}
