import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { BYTE_SYMBOLS, learnMerges, writeByteLevelTokenizer } from '../src/tokenizer/byte-level-bpe';
import { Tokenizer } from '../src/tokenizer/tokenizer';

const TEXTS = [
  'Hello, world!',
  'digits 0123456789 and 3.14159, 1e-5',
  `punctuation ;:!?()[]{}<>"'\`~@#$%^&*-_=+/\\|`,
  'line one\nline two\r\n\ttabbed  double  spaces  \n\n',
  'café naïve résumé é',
  '中文字符',
  'emoji 🙂👍🏽 done',
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'grpo-tokenizer-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` (JSON values, or raw strings) into a new folder under the test root. */
async function modelFolder(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

describe('byte-level tokenizer written for a fresh model', () => {
  let dir: string;
  let written: Awaited<ReturnType<typeof writeByteLevelTokenizer>>;
  let tok: Tokenizer;
  before(async () => {
    dir = join(root, 'fresh');
    written = await writeByteLevelTokenizer(dir);
    tok = await Tokenizer.load(dir);
  });

  test('round-trips ASCII, digits, punctuation, whitespace and multi-byte UTF-8', () => {
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize), `ids in range for ${JSON.stringify(text)}`);
      assert.equal(tok.decode(ids), text);
    }
  });

  test('learned merges make common words shorter than their bytes', () => {
    const text = 'the answer is the reward';
    assert.ok(tok.encode(text).length < Buffer.byteLength(text) / 2);
  });

  test('special tokens encode to their single ids and skipSpecialTokens drops them', () => {
    assert.deepEqual(tok.encode('<|im_start|>'), [tok.tokenToId('<|im_start|>')]);
    assert.deepEqual(tok.encode('<|im_end|>'), [written.eosTokenId]);
    assert.deepEqual(tok.encode('<|endoftext|>'), [written.bosTokenId]);
    const ids = tok.encode('<|im_start|>user\nhi<|im_end|>');
    assert.equal(ids[0], tok.tokenToId('<|im_start|>'));
    assert.equal(ids[ids.length - 1], written.eosTokenId);
    assert.equal(tok.decode(ids), '<|im_start|>user\nhi<|im_end|>');
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'user\nhi');
  });

  test('bos, eos, pad and vocabulary size agree between writer and loader', () => {
    assert.equal(tok.vocabSize, written.vocabSize);
    assert.equal(written.vocabSize, 256 + 256 + 3); // bytes, default merges, special tokens
    assert.equal(tok.bosTokenId, written.bosTokenId);
    assert.deepEqual(tok.eosTokenIds, [written.eosTokenId]);
    assert.equal(tok.padTokenId, written.padTokenId);
    assert.equal(tok.tokenToId('<|im_end|>'), written.eosTokenId); // ChatML turns end there
    assert.equal(tok.tokenToId('<|endoftext|>'), written.padTokenId);
    assert.ok(tok.hasChatTemplate);
    assert.deepEqual(tok.encode('x'), tok.encode('x', { addSpecialTokens: false }), 'no BOS added, as in GPT-2');
  });

  test('without a chat template EOS is <|endoftext|>', async () => {
    const plain = await writeByteLevelTokenizer(join(root, 'fresh-plain'), { merges: 10, chatTemplate: false });
    const t = await Tokenizer.load(join(root, 'fresh-plain'));
    assert.equal(plain.vocabSize, 256 + 10 + 3);
    assert.equal(t.tokenToId('<|endoftext|>'), plain.eosTokenId);
    assert.deepEqual(t.eosTokenIds, [plain.eosTokenId]);
    assert.equal(t.hasChatTemplate, false);
  });

  test('files follow the Hugging Face schema', async () => {
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    assert.equal(json.model.type, 'BPE');
    assert.equal(json.pre_tokenizer.type, 'ByteLevel');
    assert.equal(json.decoder.type, 'ByteLevel');
    assert.equal(json.model.merges.length, 256);
    assert.match(json.model.merges[0], /^\S+ \S+$/);
    for (let b = 0; b < 256; b++) assert.equal(json.model.vocab[BYTE_SYMBOLS[b]], b);
    assert.deepEqual(json.added_tokens[0], {
      id: written.bosTokenId,
      content: '<|endoftext|>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.equal(config.eos_token, '<|im_end|>');
    assert.equal(config.model_max_length, 2048);
    const map = JSON.parse(await readFile(join(dir, 'special_tokens_map.json'), 'utf8'));
    assert.equal(map.pad_token.content, '<|endoftext|>');
  });

  test('decoding every prefix of a multi-byte text does not throw', () => {
    const text = 'é中🙂';
    const ids = tok.encode(text);
    assert.ok(ids.length > 3, 'these characters span several byte tokens');
    for (let k = 0; k <= ids.length; k++) {
      const partial = tok.decode(ids.slice(0, k));
      assert.ok(text.startsWith(partial.replace(/\uFFFD+$/, '')), `prefix ${k} decodes to a prefix of the text: ${JSON.stringify(partial)}`);
    }
    assert.equal(tok.decode([]), '');
  });

  test('ids past the vocabulary decode to nothing', () => {
    assert.equal(tok.decode([...tok.encode('ok'), tok.vocabSize + 5]), 'ok');
  });
});

describe('learnMerges', () => {
  test('merges the most frequent pair first and breaks ties by sort order', () => {
    // "e l" and "h e" both occur 4 times; "e l" sorts first. Then "h el" is the most frequent.
    assert.deepEqual(learnMerges('hello hello hello help', 2), [
      ['e', 'l'],
      ['h', 'el'],
    ]);
  });

  test('stops when no pairs are left; a word keeps its leading space', () => {
    assert.deepEqual(learnMerges('ab ab', 10), [
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
  });
});

// A tiny tokenizer in the shape Qwen2 and Llama 3 ship: byte symbols as ids 0..255, a few
// merges so that "Hello world" is two tokens, added tokens after them.
const MERGES = ['Ġ w', 'o r', 'l l', 'H e', 'He ll', 'Ġw or', 'Hell o', 'l d', 'Ġwor ld', '2 0'];
const HELLO = 256 + MERGES.indexOf('Hell o');
const WORLD = 256 + MERGES.indexOf('Ġwor ld');
const TWENTY = 256 + MERGES.indexOf('2 0');

function bpeModel(ignoreMerges: boolean) {
  const vocab: Record<string, number> = {};
  BYTE_SYMBOLS.forEach((s, b) => (vocab[s] = b));
  MERGES.forEach((m, i) => (vocab[m.replace(' ', '')] = 256 + i));
  return {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: '',
    end_of_word_suffix: '',
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: ignoreMerges,
    vocab,
    merges: MERGES.map((m) => m.split(' ')), // the list-of-pairs form newer tokenizers write
  };
}

function addedToken(id: number, content: string, special = true) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const FIRST_ADDED = 256 + MERGES.length;

function qwen2TokenizerJson() {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(FIRST_ADDED, '<|endoftext|>'),
      addedToken(FIRST_ADDED + 1, '<|im_start|>'),
      addedToken(FIRST_ADDED + 2, '<|im_end|>'),
      addedToken(FIRST_ADDED + 3, '<tool_call>', false),
    ],
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: bpeModel(false),
  };
}

function llama3TokenizerJson() {
  const bos = '<|begin_of_text|>';
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(FIRST_ADDED, bos),
      addedToken(FIRST_ADDED + 1, '<|end_of_text|>'),
      addedToken(FIRST_ADDED + 2, '<|eot_id|>'),
    ],
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [FIRST_ADDED], tokens: [bos] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel(true),
  };
}

describe('Qwen2-shaped tokenizer folder', () => {
  let tok: Tokenizer;
  before(async () => {
    const dir = await modelFolder('qwen2', {
      'tokenizer.json': qwen2TokenizerJson(),
      'tokenizer_config.json': {
        add_bos_token: false,
        add_prefix_space: false,
        bos_token: null,
        eos_token: '<|im_end|>',
        pad_token: '<|endoftext|>',
        unk_token: null,
        clean_up_tokenization_spaces: false,
        additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
        tokenizer_class: 'Qwen2Tokenizer',
      },
      'generation_config.json': { bos_token_id: FIRST_ADDED, eos_token_id: [FIRST_ADDED + 2, FIRST_ADDED], pad_token_id: FIRST_ADDED },
    });
    tok = await Tokenizer.load(dir);
  });

  test('applies the merges through the Split + ByteLevel pre-tokenizer', () => {
    assert.deepEqual(tok.encode('Hello world'), [HELLO, WORLD]);
    assert.equal(tok.decode([HELLO, WORLD]), 'Hello world');
  });

  test('its Split regex isolates each digit, so the "2 0" merge never applies', () => {
    assert.deepEqual(tok.encode('2024'), [...Buffer.from('2024')]);
  });

  test('round-trips mixed text', () => {
    for (const text of TEXTS) assert.equal(tok.decode(tok.encode(text)), text);
  });

  test('stops on every EOS that generation_config.json lists; no BOS; pad from tokenizer_config', () => {
    assert.deepEqual(tok.eosTokenIds, [FIRST_ADDED + 2, FIRST_ADDED]);
    assert.equal(tok.bosTokenId, undefined);
    assert.equal(tok.padTokenId, FIRST_ADDED);
    assert.equal(tok.vocabSize, FIRST_ADDED + 4);
  });

  test('skipSpecialTokens keeps added tokens that are not special', () => {
    const ids = tok.encode('<|im_start|><tool_call>Hello<|im_end|>');
    assert.deepEqual(ids, [FIRST_ADDED + 1, FIRST_ADDED + 3, HELLO, FIRST_ADDED + 2]);
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), '<tool_call>Hello');
  });
});

describe('Llama-3-shaped tokenizer folder', () => {
  const files = (config: object) => ({
    'tokenizer.json': llama3TokenizerJson(),
    'tokenizer_config.json': { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', clean_up_tokenization_spaces: true, ...config },
    'generation_config.json': { bos_token_id: FIRST_ADDED, eos_token_id: [FIRST_ADDED + 1, FIRST_ADDED + 2] },
  });

  test('its post-processor adds BOS unless special tokens are turned off', async () => {
    const tok = await Tokenizer.load(await modelFolder('llama3', files({})));
    assert.deepEqual(tok.encode('Hello world'), [FIRST_ADDED, HELLO, WORLD]);
    assert.deepEqual(tok.encode('Hello world', { addSpecialTokens: false }), [HELLO, WORLD]);
    assert.equal(tok.bosTokenId, FIRST_ADDED);
    assert.deepEqual(tok.eosTokenIds, [FIRST_ADDED + 2, FIRST_ADDED + 1]);
    assert.equal(tok.padTokenId, FIRST_ADDED + 2, 'no pad token anywhere: the first EOS');
  });

  test('its Split regex groups up to three digits, so the "2 0" merge applies', async () => {
    const tok = await Tokenizer.load(await modelFolder('llama3-digits', files({})));
    assert.deepEqual(tok.encode('2024', { addSpecialTokens: false }), [TWENTY, ...Buffer.from('24')]);
  });

  test('add_bos_token: false in tokenizer_config.json drops the BOS the post-processor adds', async () => {
    const tok = await Tokenizer.load(await modelFolder('llama3-nobos', files({ add_bos_token: false })));
    assert.deepEqual(tok.encode('Hello world'), [HELLO, WORLD]);
  });

  test('clean_up_tokenization_spaces: true is honoured when decoding', async () => {
    const tok = await Tokenizer.load(await modelFolder('llama3-cleanup', files({})));
    assert.equal(tok.decode(tok.encode('Hello .', { addSpecialTokens: false })), 'Hello.');
  });
});

describe('special tokens from the files around tokenizer.json', () => {
  const qwenFiles = (extra: Record<string, unknown>) => ({ 'tokenizer.json': qwen2TokenizerJson(), ...extra });

  test('add_bos_token: true prepends BOS when the post-processor does not', async () => {
    const tok = await Tokenizer.load(
      await modelFolder('bos-added', qwenFiles({ 'tokenizer_config.json': { bos_token: '<|endoftext|>', add_bos_token: true } })),
    );
    assert.deepEqual(tok.encode('Hello'), [FIRST_ADDED, HELLO]);
    assert.deepEqual(tok.encode('Hello', { addSpecialTokens: false }), [HELLO]);
  });

  test('AddedToken objects are read, and special_tokens_map.json wins over tokenizer_config.json', async () => {
    const tok = await Tokenizer.load(
      await modelFolder(
        'token-objects',
        qwenFiles({
          'tokenizer_config.json': { eos_token: { __type: 'AddedToken', content: '<|endoftext|>', special: true } },
          'special_tokens_map.json': { eos_token: { content: '<|im_end|>', lstrip: false }, pad_token: '<|endoftext|>' },
        }),
      ),
    );
    assert.deepEqual(tok.eosTokenIds, [FIRST_ADDED + 2]);
    assert.equal(tok.padTokenId, FIRST_ADDED);
  });

  test('a single generation_config eos_token_id joins the tokenizer EOS', async () => {
    const tok = await Tokenizer.load(
      await modelFolder(
        'gen-eos',
        qwenFiles({ 'tokenizer_config.json': { eos_token: '<|im_end|>' }, 'generation_config.json': { eos_token_id: FIRST_ADDED } }),
      ),
    );
    assert.deepEqual(tok.eosTokenIds, [FIRST_ADDED + 2, FIRST_ADDED]);
  });

  test('a special token missing from the vocabulary is a UserError naming the file and field', async () => {
    const dir = await modelFolder('bad-bos', qwenFiles({ 'tokenizer_config.json': { bos_token: '<s>' } }));
    await assert.rejects(Tokenizer.load(dir), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.ok(e.message.includes(join(dir, 'tokenizer_config.json')) && e.message.includes('bos_token'), e.message);
      return true;
    });
  });
});

describe('loading errors', () => {
  test('a folder without tokenizer.json gives a UserError naming the path', async () => {
    const dir = await modelFolder('empty', {});
    await assert.rejects(Tokenizer.load(dir), (e: Error) => e instanceof UserError && e.message.includes(join(dir, 'tokenizer.json')));
  });

  test('a tokenizer.json that is not JSON gives a UserError naming the path', async () => {
    const dir = await modelFolder('broken', { 'tokenizer.json': '{"model": ' });
    await assert.rejects(Tokenizer.load(dir), (e: Error) => e instanceof UserError && e.message.includes(join(dir, 'tokenizer.json')));
  });

  test('a tokenizer.json without a model gives a UserError naming the field', async () => {
    const dir = await modelFolder('no-model', { 'tokenizer.json': { version: '1.0' } });
    await assert.rejects(Tokenizer.load(dir), (e: Error) => e instanceof UserError && e.message.includes('"model"'));
  });
});
