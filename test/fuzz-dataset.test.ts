// Fuzzing prompt datasets (JSONL and {"prompts": [...]} JSON): damaged copies of the demo's
// train.jsonl either load as rows with a usable prompt or are refused with a UserError naming
// the file and the line (or item).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadPromptDataset, type PromptRow } from '../src/trainer/dataset';
import { FuzzCount, fuzzParameters, mutatedJson, mutatedText, nastyJsonText, parsesOrRefuses } from './helpers/fuzz';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-dataset-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LINES = readFileSync(join(__dirname, '..', 'examples', 'demo', 'train.jsonl'), 'utf8').split('\n').slice(0, 20);
const CHAT_LINE = JSON.stringify({ prompt: [{ role: 'system', content: 'Add.' }, { role: 'user', content: '2+2=' }], answer: '4' });
const JSONL = [...LINES.slice(0, 10), CHAT_LINE, ...LINES.slice(10)].join('\n') + '\n';
const PROMPTS_JSON = JSON.stringify({ prompts: ['1+1=', { prompt: '2+3=', answer: '5' }, JSON.parse(CHAT_LINE)] }, null, 2);

function assertUsable(rows: PromptRow[]): void {
  assert.ok(rows.length > 0);
  rows.forEach((r, i) => {
    assert.equal(r.index, i);
    if (typeof r.prompt === 'string') assert.ok(r.prompt.length > 0);
    else assert.ok(r.prompt.length > 0 && r.prompt.every((m) => typeof m.role === 'string' && typeof m.content === 'string'));
    assert.equal(typeof r.row, 'object');
  });
}

let n = 0;
async function loadText(count: FuzzCount, text: string, mustName: string[] = []): Promise<void> {
  count.next();
  const file = join(dir, `d${n++}.jsonl`);
  writeFileSync(file, text);
  const rows = await parsesOrRefuses(count, () => loadPromptDataset(file), [file, ...mustName.map((s) => s.replace('FILE', file))]);
  rmSync(file);
  if (rows) assertUsable(rows);
}

test('JSONL datasets with one line restructured load or are refused naming the line', async (t) => {
  const count = new FuzzCount('dataset JSONL lines');
  const lines = JSONL.split('\n');
  const mutant = fc.integer({ min: 0, max: lines.length - 2 }).chain((at) => mutatedJson(JSON.parse(lines[at])).map((m) => ({ at, text: m.text })));
  await fc.assert(
    fc.asyncProperty(mutant, async ({ at, text }) => {
      const changed = [...lines.slice(0, at), text, ...lines.slice(at + 1)].join('\n');
      // A line that is still one line is what the message must point at.
      await loadText(count, changed, text.includes('\n') ? [] : [`FILE:${at + 1}:`]);
    }),
    fuzzParameters(200),
  );
  count.report(t);
});

test('datasets with damaged bytes, either format, load or are refused', async (t) => {
  const count = new FuzzCount('dataset bytes');
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutatedText(JSONL, 6), mutatedText(PROMPTS_JSON, 6)), (text) => loadText(count, text)),
    fuzzParameters(200),
  );
  count.report(t);
});

test('{"prompts": [...]} files with items dropped, retyped, huge or nested load or are refused naming the item', async (t) => {
  const count = new FuzzCount('dataset prompts JSON');
  await fc.assert(fc.asyncProperty(mutatedJson(JSON.parse(PROMPTS_JSON)), (m) => loadText(count, m.text)), fuzzParameters(200));
  count.report(t);
});

test('lines whose prompt or other columns are arbitrary JSON values load or are refused', async (t) => {
  const count = new FuzzCount('dataset arbitrary values');
  const line = fc.oneof(nastyJsonText, nastyJsonText.map((v) => `{"prompt":${v}}`), nastyJsonText.map((v) => `{"prompt":"1+1=","answer":${v}}`));
  await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 3 }), (lines) => loadText(count, lines.join('\n'))), fuzzParameters(150));
  count.report(t);
});

test('regression: a dataset path that is a folder is reported as unreadable, not as missing', async () => {
  await assert.rejects(loadPromptDataset(dir), (e: Error) => e.name === 'UserError' && e.message.startsWith(`${dir}: the dataset cannot be read (EISDIR`));
  await assert.rejects(loadPromptDataset(join(dir, 'absent.jsonl')), (e: Error) => e.name === 'UserError' && /absent\.jsonl: dataset not found/.test(e.message));
});
