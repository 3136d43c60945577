import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { writeByteLevelTokenizer } from '../src/tokenizer/byte-level-bpe';
import { Tokenizer, type ChatMessage } from '../src/tokenizer/tokenizer';

const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is 2 + 2?' },
  { role: 'assistant', content: '4' },
  { role: 'user', content: 'And 3 + 3?' },
];

const CHATML_CONVERSATION =
  '<|im_start|>system\nYou are terse.<|im_end|>\n' +
  '<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n' +
  '<|im_start|>assistant\n4<|im_end|>\n' +
  '<|im_start|>user\nAnd 3 + 3?<|im_end|>\n';

// Like Qwen2.5's template without the tool parts: a default system turn when none is given.
const QWEN_LIKE =
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
  "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}\n" +
  "{%- for message in messages %}{%- if message.role != 'system' %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}\n" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}\n";

let root: string;
let folderCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'grpo-chat-template-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh tokenizer folder whose tokenizer_config.json is changed by `editConfig`, plus `files`. */
async function folder(editConfig: (config: Record<string, unknown>) => void, files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `model-${folderCount++}`);
  await writeByteLevelTokenizer(dir, { merges: 0 });
  const configFile = join(dir, 'tokenizer_config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8'));
  editConfig(config);
  await writeFile(configFile, JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('ChatML template of a fresh model', () => {
  let tok: Tokenizer;
  before(async () => {
    tok = await Tokenizer.load(await folder(() => {}));
  });

  test('renders system, user and assistant turns', () => {
    assert.equal(tok.applyChatTemplate(CONVERSATION), CHATML_CONVERSATION);
  });

  test('adds the assistant header with addGenerationPrompt', () => {
    assert.equal(tok.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true }), CHATML_CONVERSATION + '<|im_start|>assistant\n');
  });

  test('the rendered prompt encodes its markers as single special tokens', () => {
    const ids = tok.encode(tok.applyChatTemplate(CONVERSATION.slice(0, 2), { addGenerationPrompt: true }), { addSpecialTokens: false });
    const start = tok.tokenToId('<|im_start|>');
    assert.equal(ids.filter((id) => id === start).length, 3);
    assert.equal(ids.filter((id) => id === tok.eosTokenIds[0]).length, 2);
  });
});

describe('where the chat template comes from', () => {
  test('chat_template.jinja wins over tokenizer_config.json', async () => {
    const dir = await folder(() => {}, { 'chat_template.jinja': '{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}' });
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.applyChatTemplate(CONVERSATION.slice(1, 3)), '[user] What is 2 + 2?\n[assistant] 4\n');
  });

  test('a list of templates uses the one named "default"', async () => {
    const dir = await folder((c) => {
      c.chat_template = [
        { name: 'tool_use', template: 'TOOLS' },
        { name: 'default', template: QWEN_LIKE },
      ];
    });
    const tok = await Tokenizer.load(dir);
    assert.equal(
      tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true }),
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('a list without "default" is no template, and says which names it has', async () => {
    const dir = await folder((c) => {
      c.chat_template = [{ name: 'tool_use', template: 'TOOLS' }];
    });
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.hasChatTemplate, false);
    assert.throws(
      () => tok.applyChatTemplate(CONVERSATION),
      (e: Error) => e instanceof UserError && e.message.includes('"tool_use"') && e.message.includes(join(dir, 'tokenizer_config.json')),
    );
  });

  test('no template anywhere is a UserError naming both places looked in', async () => {
    const dir = await folder((c) => delete c.chat_template);
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.hasChatTemplate, false);
    assert.throws(
      () => tok.applyChatTemplate(CONVERSATION),
      (e: Error) =>
        e instanceof UserError && e.message.includes(join(dir, 'chat_template.jinja')) && e.message.includes(join(dir, 'tokenizer_config.json')),
    );
  });
});

describe('rendering', () => {
  test('special tokens are in scope, as transformers provides them', async () => {
    const template = '{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}{{ pad_token }}';
    const tok = await Tokenizer.load(await folder((c) => (c.chat_template = template)));
    assert.equal(tok.applyChatTemplate([{ role: 'user', content: 'a' }]), '<|endoftext|>a<|im_end|><|endoftext|>');
  });

  test('raise_exception in a template becomes a UserError naming the template file', async () => {
    const template = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with a user turn') }}{% endif %}ok";
    const dir = await folder(() => {}, { 'chat_template.jinja': template });
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.applyChatTemplate([{ role: 'user', content: 'x' }]), 'ok');
    assert.throws(
      () => tok.applyChatTemplate(CONVERSATION),
      (e: Error) => e instanceof UserError && e.message.includes(join(dir, 'chat_template.jinja')) && e.message.includes('must start with a user turn'),
    );
  });

  test('a template that does not parse loads, but applying it is a UserError naming the file', async () => {
    const dir = await folder(() => {}, { 'chat_template.jinja': '{% for m in messages %}{{ m.content }' });
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.decode(tok.encode('plain prompts still work')), 'plain prompts still work');
    assert.throws(
      () => tok.applyChatTemplate(CONVERSATION),
      (e: Error) => e instanceof UserError && e.message.includes(join(dir, 'chat_template.jinja')),
    );
  });
});
