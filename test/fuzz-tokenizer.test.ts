// Fuzzing a model folder's tokenizer files (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json, generation_config.json) and chat templates: each damaged copy of the
// demo model's files loads and then encodes, decodes and renders a chat, or is refused with a
// UserError naming the file.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '../src/tokenizer/tokenizer';
import { FuzzCount, fuzzParameters, mutatedJson, mutatedJsonText, mutatedText, parsesOrRefuses } from './helpers/fuzz';

const demo = join(__dirname, '..', 'examples', 'demo', 'model');
const FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'] as const;
const originals = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(demo, f), 'utf8')])) as Record<(typeof FILES)[number], string>;

const dir = mkdtempSync(join(tmpdir(), 'fuzz-tokenizer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function restore(): void {
  for (const f of FILES) copyFileSync(join(demo, f), join(dir, f));
  rmSync(join(dir, 'chat_template.jinja'), { force: true });
}

const TEXTS = ['12+7=', 'Hello, world! <|im_end|> ü 漢字 🙂', ''];

/** Loads the folder and uses the tokenizer as training does; any failure must be a UserError naming `file`. */
async function loadAndUse(count: FuzzCount, file: string, field: string[] = []): Promise<void> {
  const tokenizer = await parsesOrRefuses(count, () => Tokenizer.load(dir), [file, ...field]);
  if (tokenizer === undefined) return;
  await parsesOrRefuses(
    count,
    () => {
      for (const text of TEXTS) {
        const ids = tokenizer.encode(text);
        assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0), `ids ${ids}`);
        assert.equal(typeof tokenizer.decode(ids), 'string');
      }
      if (tokenizer.hasChatTemplate) {
        tokenizer.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: TEXTS[0] }], { addGenerationPrompt: true });
      }
    },
    [],
  );
}

for (const name of FILES) {
  test(`${name} with fields dropped, retyped, huge or nested, or bytes damaged: loads and works, or is refused`, async (t) => {
    const count = new FuzzCount(`tokenizer ${name}`);
    const file = join(dir, name);
    await fc.assert(
      fc.asyncProperty(mutatedJsonText(JSON.parse(originals[name])), async (text) => {
        count.next();
        restore();
        writeFileSync(file, text);
        await loadAndUse(count, file);
      }),
      fuzzParameters(name === 'tokenizer.json' ? 200 : 120),
    );
    count.report(t);
  });
}

test('chat templates with damaged text, in chat_template.jinja or tokenizer_config.json, render or are refused', async (t) => {
  const count = new FuzzCount('chat template');
  const template = (JSON.parse(originals['tokenizer_config.json']) as { chat_template: string }).chat_template;
  const config = JSON.parse(originals['tokenizer_config.json']) as Record<string, unknown>;
  const snippets = fc.constantFrom('{%', '%}', '{{', '}}', '{% endfor %}', '{{ raise_exception("no") }}', '{% for x in messages %}', '{{ messages[99].content }}', '{{ undefined_name.attr }}', '{% if %}', '{{ 1/0 }}', '{{ "a" * 3 }}', '{% for i in range(1000000000) %}{% endfor %}', '{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}', '{% set range = 3 %}{{ range }}');
  const damaged = fc.oneof(
    mutatedText(template, 6),
    fc.tuple(fc.integer({ min: 0, max: template.length }), snippets).map(([at, s]) => template.slice(0, at) + s + template.slice(at)),
  );
  const where = fc.constantFrom('jinja', 'config-string', 'config-list');
  await fc.assert(
    fc.asyncProperty(damaged, where, async (text, place) => {
      count.next();
      restore();
      let file = join(dir, 'tokenizer_config.json');
      if (place === 'jinja') {
        file = join(dir, 'chat_template.jinja');
        writeFileSync(file, text);
      } else {
        const chat_template = place === 'config-string' ? text : [{ name: 'default', template: text }, { name: 'tool_use', template }];
        writeFileSync(file, JSON.stringify({ ...config, chat_template }));
      }
      const tokenizer = await parsesOrRefuses(count, () => Tokenizer.load(dir), [file]);
      if (tokenizer) await parsesOrRefuses(count, () => tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), [file]);
    }),
    fuzzParameters(200),
  );
  count.report(t);
});

test('tokenizer_config.json special-token fields with any JSON value load or are refused naming the field', async (t) => {
  const count = new FuzzCount('tokenizer special-token fields');
  const config = JSON.parse(originals['tokenizer_config.json']) as Record<string, unknown>;
  const file = join(dir, 'tokenizer_config.json');
  const fields = ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'additional_special_tokens', 'add_bos_token', 'clean_up_tokenization_spaces', 'chat_template'];
  await fc.assert(
    fc.asyncProperty(mutatedJson(Object.fromEntries(fields.map((f) => [f, config[f] ?? null]))), async (m) => {
      count.next();
      restore();
      // Spliced as text (a later duplicate key wins in JSON.parse): a deeply nested value cannot be stringified.
      if (!m.text.startsWith('{') || m.text === '{}') return;
      writeFileSync(file, `${JSON.stringify(config).slice(0, -1)},${m.text.slice(1)}`);
      await loadAndUse(count, file, m.kind === 'replace' && m.path.length > 0 ? [`"${m.path[0]}`] : []);
    }),
    fuzzParameters(150),
  );
  count.report(t);
});

test('regression: token ids that are not small integers are refused at load, naming the field', async () => {
  const tokenizerJson = JSON.parse(originals['tokenizer.json']) as { model: { vocab: Record<string, unknown> }; added_tokens: { id: unknown }[] };
  const file = join(dir, 'tokenizer.json');
  const cases: [(j: typeof tokenizerJson) => void, RegExp][] = [
    [(j) => (j.model.vocab['a'] = 'ninety-seven'), /field "model.vocab" gives token "a" the id "ninety-seven"/],
    [(j) => (j.model.vocab['a'] = 2 ** 32 - 2), /field "model.vocab" gives token "a" the id 4294967294/],
    [(j) => (j.model.vocab['a'] = -1), /field "model.vocab" gives token "a" the id -1/],
    [(j) => (j.added_tokens[1].id = 1e9), /field "added_tokens\[1\]" must have an integer "id"/],
  ];
  for (const [change, message] of cases) {
    restore();
    const j = structuredClone(tokenizerJson);
    change(j);
    writeFileSync(file, JSON.stringify(j));
    await assert.rejects(Tokenizer.load(dir), (e: Error) => e.name === 'UserError' && message.test(e.message) && e.message.startsWith(file));
  }
});

test('regression: a special token nested too deep to print is refused with a UserError, not a stack overflow', async () => {
  restore();
  const file = join(dir, 'special_tokens_map.json');
  writeFileSync(file, `{"pad_token": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`);
  await assert.rejects(Tokenizer.load(dir), (e: Error) => e.name === 'UserError' && /field "pad_token" must be a token string/.test(e.message) && e.message.length < 400);
});

test('regression: a chat template that asks range() for a billion numbers is refused, not a process abort', async () => {
  restore();
  const config = JSON.parse(originals['tokenizer_config.json']) as Record<string, unknown>;
  const file = join(dir, 'tokenizer_config.json');
  const render = async (chat_template: string) => {
    writeFileSync(file, JSON.stringify({ ...config, chat_template }));
    return (await Tokenizer.load(dir)).applyChatTemplate([{ role: 'user', content: 'hi' }]);
  };
  for (const template of ['{% for i in range(1000000000) %}{% endfor %}', '{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}']) {
    const started = Date.now();
    await assert.rejects(render(template), (e: Error) => e.name === 'UserError' && /the chat template rejected the messages: range\(\) of \d+ numbers exceeds the 100000 /.test(e.message));
    assert.ok(Date.now() - started < 2_000);
  }
  // range() keeps Python's meaning, and a template's own variable named range is its own.
  assert.equal(await render('{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(1, 7, 2) %}{{ i }}{% endfor %}|{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}'), '012|135|321');
  assert.equal(await render('{% set range = "mine" %}{{ range }}'), 'mine');
});
