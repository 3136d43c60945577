// Prompt datasets: the formats users bring, and errors that say where the problem is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePrompt, loadPromptDataset, renderPrompt } from '../src/trainer/dataset';
import { writeByteLevelTokenizer } from '../src/tokenizer/byte-level-bpe';
import { Tokenizer } from '../src/tokenizer/tokenizer';
import { UserError } from '../src/errors';

const dir = mkdtempSync(join(tmpdir(), 'grpo-data-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

test('JSONL rows keep their other columns for the rewards; blank lines are skipped', async () => {
  const rows = await loadPromptDataset(file('a.jsonl', '{"prompt": "2+2=", "answer": "4"}\n\n{"prompt": "3+3=", "answer": "6", "tags": ["x"]}\n'));
  assert.deepEqual(rows, [
    { index: 0, prompt: '2+2=', row: { answer: '4' } },
    { index: 1, prompt: '3+3=', row: { answer: '6', tags: ['x'] } },
  ]);
});

test('{"prompts": [...]} takes strings and objects', async () => {
  const rows = await loadPromptDataset(file('b.json', JSON.stringify({ prompts: ['hi', { prompt: 'yo', answer: 1 }] })));
  assert.deepEqual(rows.map((r) => [r.prompt, r.row]), [['hi', {}], ['yo', { answer: 1 }]]);
});

test('chat prompts go through the chat template; text prompts only when asked', async () => {
  const modelDir = mkdtempSync(join(tmpdir(), 'grpo-tok-'));
  await writeByteLevelTokenizer(modelDir, { merges: 8 });
  const tokenizer = await Tokenizer.load(modelDir);
  const [chat] = await loadPromptDataset(file('c.jsonl', JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }] })));
  const [text] = await loadPromptDataset(file('d.jsonl', JSON.stringify({ prompt: 'Hi' })));
  const rendered = '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n';
  assert.equal(renderPrompt(chat, tokenizer, false), rendered);
  assert.equal(renderPrompt(text, tokenizer, false), 'Hi');
  assert.equal(renderPrompt(text, tokenizer, true), rendered);
  assert.deepEqual(encodePrompt(chat, tokenizer, false), tokenizer.encode(rendered, { addSpecialTokens: false }));
});

test('bad rows name the file and line', async () => {
  const cases: [string, RegExp][] = [
    ['{"prompt": "ok"}\n{"prompt": \n', /e\.jsonl:2: not valid JSON/],
    ['{"question": "no prompt"}\n', /e\.jsonl:1: "prompt" must be text or a non-empty list/],
    ['{"prompt": ""}\n', /e\.jsonl:1: "prompt" is empty/],
    ['{"prompt": [{"role": "user"}]}\n', /e\.jsonl:1: "prompt" must be text/],
    ['\n\n', /the dataset has no prompts/],
  ];
  for (const [text, pattern] of cases) {
    await assert.rejects(loadPromptDataset(file('e.jsonl', text)), (e: unknown) => e instanceof UserError && pattern.test(e.message));
  }
  await assert.rejects(loadPromptDataset(join(dir, 'missing.jsonl')), /missing\.jsonl: dataset not found; set dataset_path/);
});
