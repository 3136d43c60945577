import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { COMPLETION_MARKER, completionDocument, PROMPT_MARKER, tokenAt, type CompletionDocument } from '../src/extension/completion-document/completion-text';
import { tokenKl } from '../src/run-folder/token-kl';
import { completionUriParts, parseCompletionQuery } from '../src/extension/completion-document/completion-uri';
import { readCompletionDocument } from '../src/extension/completion-document/read-completion';
import { RunDecoders } from '../src/run-folder/run-decoders';
import { LEVELS, tokenLevel, tokenLevels } from '../src/extension/completion-document/token-colours';
import { tokenHover } from '../src/extension/completion-document/token-hover';
import { RunFolder, type DecodeToken } from '../src/run-folder/run-folder';
import { loadTokenTexts } from '../src/run-folder/token-text';
import { demo, trainDemoRun } from './helpers/demo-run';

// One real run, 2 iterations of the bundled demo with a reference model, in a folder whose
// path has spaces and URL-special characters.
let runDir: string;
let decodeToken: DecodeToken;

before(() => {
  const work = mkdtempSync(join(tmpdir(), 'grpo completion #&%+ ü-'));
  runDir = trainDemoRun(work, { max_new_tokens: 6, seed: 3 });
});

async function allDocuments(): Promise<CompletionDocument[]> {
  decodeToken ??= await loadTokenTexts(join(demo, 'model'));
  const docs: CompletionDocument[] = [];
  for (const iteration of [1, 2]) {
    for (const c of (await new RunFolder(runDir).rollouts(iteration, decodeToken)) ?? []) {
      docs.push(await readCompletionDocument({ runDir, iteration, group: c.group, member: c.member }, decodeToken));
    }
  }
  assert.equal(docs.length, 16);
  return docs;
}

test('each token of a real completion is exactly its range of the document, right after the completion marker', async () => {
  for (const doc of await allDocuments()) {
    const lines = doc.text.split('\n');
    const markerLine = lines.indexOf(COMPLETION_MARKER);
    assert.ok(markerLine > 0);
    assert.equal(doc.completionStart, lines.slice(0, markerLine + 1).join('\n').length + 1);
    assert.ok(doc.tokens.length > 0);
    let at = doc.completionStart;
    for (const t of doc.tokens) {
      assert.equal(t.start, at, 'tokens follow each other with nothing between');
      assert.equal(doc.text.slice(t.start, t.end), t.text, 'demo tokens are ASCII digits, signs and the end token');
      at = t.end;
    }
    assert.equal(at, doc.text.length, 'the completion ends the document');
  }
});

test('the header names the completion, its rewards, advantage and prompt as the rollouts file has them', async () => {
  const docs = await allDocuments();
  const file = join(runDir, 'rollouts', 'iter-000002.jsonl');
  const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const doc of docs.filter((d) => d.ref.iteration === 2)) {
    const record = records.find((r) => r.group === doc.ref.group && r.member === doc.ref.member);
    const [first, reward, advantage, promptMarker, prompt] = doc.text.split('\n');
    assert.equal(first, `iteration 2 · group ${doc.ref.group} · member ${doc.ref.member} · run ${runDir.split('/').pop()}`);
    const four = (x: number) => Number(x.toFixed(4));
    const byFunction = Object.entries(record.rewards as Record<string, number>).map(([fn, v]) => `${fn} ${four(v)}`);
    assert.ok(byFunction.length > 0);
    assert.equal(reward, `reward ${four(record.reward)} (${byFunction.join(' · ')})`);
    assert.equal(doc.advantage, record.advantage);
    assert.match(advantage, new RegExp(`^advantage [+-]?\\d\\.\\d{4} · ${record.completion_ids.length} tokens · finished by ${record.finish_reason}$`));
    assert.equal(promptMarker, PROMPT_MARKER);
    assert.equal(prompt, record.prompt);
    assert.ok(doc.text.slice(doc.completionStart).startsWith(record.completion), 'the decoded tokens begin with the completion text');
    assert.deepEqual(doc.tokens.map((t) => t.id), record.completion_ids);
    assert.deepEqual(doc.tokens.map((t) => t.logprob), record.logprobs);
    assert.deepEqual(doc.tokens.map((t) => t.refLogprob), record.ref_logprobs);
  }
});

test('the token under an offset is found for every character of the completion and for none of the header', async () => {
  const [doc] = await allDocuments();
  for (let offset = 0; offset < doc.completionStart; offset++) assert.equal(tokenAt(doc, offset), undefined);
  doc.tokens.forEach((t, i) => {
    for (let offset = t.start; offset < t.end; offset++) assert.equal(tokenAt(doc, offset), i);
  });
  assert.equal(tokenAt(doc, doc.text.length), undefined);
});

test('the hover of a token gives its id, log-prob and probability, reference log-prob, k3 KL and the advantage', async () => {
  const docs = await allDocuments();
  const doc = docs.find((d) => d.advantage !== 0 && d.tokens.length > 1)!;
  assert.ok(doc, 'a completion with a non-zero advantage');
  const t = doc.tokens[1];
  const hover = tokenHover(doc, 1);
  assert.equal(hover.quoted, JSON.stringify(t.text));
  const row = (label: string) => hover.rows.find((r) => r.label === label)?.value;
  assert.equal(row('token'), `2 of ${doc.tokens.length}, id ${t.id}`);
  assert.ok(t.logprob !== null && t.refLogprob !== null);
  assert.equal(row('log-prob'), `${t.logprob.toFixed(4)} (p = ${(Math.exp(t.logprob) * 100).toFixed(2)}%)`);
  assert.equal(row('reference log-prob'), t.refLogprob.toFixed(4));
  const kl = Math.exp(t.refLogprob - t.logprob) - (t.refLogprob - t.logprob) - 1;
  assert.ok(Math.abs(t.kl! - kl) < 1e-12);
  assert.ok(t.kl! >= 0);
  assert.match(row('KL (k3)')!, /^\d/);
  assert.equal(row('advantage'), `${doc.advantage! > 0 ? '+' : ''}${doc.advantage!.toFixed(4)}`);
});

test('token colours cover only whole tokens, each at the level its value asks for', async () => {
  for (const doc of await allDocuments()) {
    for (const colouring of ['logprob', 'kl'] as const) {
      const levels = tokenLevels(doc, colouring);
      assert.equal(levels.length, LEVELS);
      const coloured = doc.tokens.filter((t) => tokenLevel(t, colouring) > 0);
      assert.equal(levels.flat().length, coloured.length);
      levels.forEach((ranges, i) => {
        for (const [start, end] of ranges) {
          const t = doc.tokens[tokenAt(doc, start)!];
          assert.deepEqual([t.start, t.end], [start, end]);
          assert.equal(tokenLevel(t, colouring), i + 1);
        }
      });
    }
  }
});

test('line breaks other than \\n show as one visible character each, so offsets stay exact', async () => {
  decodeToken ??= await loadTokenTexts(join(demo, 'model'));
  const [c] = (await new RunFolder(runDir).rollouts(1, decodeToken))!;
  const tokens = c.tokens.map((text, i) => [`a\r\n`, `\u2028b`, `c\r`][i % 3] + text);
  const doc = completionDocument({ runDir, iteration: 1, group: c.group, member: c.member }, { ...c, prompt: 'x\r\ny', tokens });
  assert.ok(!/[\r\u0085\u2028\u2029]/.test(doc.text));
  assert.ok(doc.text.includes('x␍\ny'));
  doc.tokens.forEach((t, i) => {
    assert.equal(t.text, tokens[i], 'the token keeps its decoded text for the hover');
    assert.equal(t.end - t.start, tokens[i].length);
    assert.equal(doc.text.slice(t.start, t.end), tokens[i].replace('\r', '␍').replace('\u2028', '␤'));
  });
  assert.equal(tokenKl(-1, -1), 0);
});

test('a completion reopened from its URI query reads the same document', async () => {
  const [doc] = await allDocuments();
  const ref = parseCompletionQuery(completionUriParts(doc.ref, doc.advantage).query);
  assert.equal(ref.runDir, runDir);
  assert.deepEqual(await readCompletionDocument(ref, await new RunDecoders(() => {}).forRun(ref.runDir)), doc);
});

test('a missing rollouts file or completion is a UserError naming the file', async () => {
  decodeToken ??= await loadTokenTexts(join(demo, 'model'));
  await assert.rejects(readCompletionDocument({ runDir, iteration: 7, group: 0, member: 0 }, decodeToken), (e: Error) => {
    return e instanceof UserError && e.message.startsWith(join(runDir, 'rollouts', 'iter-000007.jsonl')) && /iteration 7 has no rollouts/.test(e.message);
  });
  await assert.rejects(readCompletionDocument({ runDir, iteration: 1, group: 0, member: 9 }, decodeToken), (e: Error) => {
    return e instanceof UserError && e.message.startsWith(join(runDir, 'rollouts', 'iter-000001.jsonl')) && /no completion for group 0, member 9 \(the file holds 8 completions in 2 groups\)/.test(e.message);
  });
});

test('a run whose model folder is gone still opens, its tokens shown as ids', async () => {
  const moved = mkdtempSync(join(tmpdir(), 'grpo-completion-moved-'));
  cpSync(runDir, moved, { recursive: true });
  const config = JSON.parse(readFileSync(join(moved, 'config.json'), 'utf8'));
  writeFileSync(join(moved, 'config.json'), JSON.stringify({ ...config, model_path: join(moved, 'no-such-model') }));
  const logged: string[] = [];
  const decode = await new RunDecoders((line) => logged.push(line)).forRun(moved);
  const doc = await readCompletionDocument({ runDir: moved, iteration: 1, group: 0, member: 0 }, decode);
  assert.deepEqual(doc.tokens.map((t) => t.text), doc.tokens.map((t) => `⟨${t.id}⟩`));
  assert.equal(logged.length, 1);
  assert.match(logged[0], /show as ids/);
});
