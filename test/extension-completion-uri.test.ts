import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/errors';
import { completionUriParts, parseCompletionQuery, signed } from '../src/extension/completion-document/completion-uri';
import type { CompletionToken } from '../src/extension/completion-document/completion-text';
import { LEVELS, tokenLevel } from '../src/extension/completion-document/token-colours';

test('a completion URI names its completion in the query and reads as a title in the tab', () => {
  const ref = { runDir: '/home/a b/#runs & more/50%+x=y?/ü 20261124-231500', iteration: 12, group: 3, member: 5 };
  const parts = completionUriParts(ref, 1.234);
  assert.equal(parts.path, '/iter 12 · group 3 · #5 (adv +1.23).txt');
  assert.deepEqual(parseCompletionQuery(parts.query), ref);
  // The query is a plain encoded string: nothing in the folder name can start a new field.
  assert.equal(parts.query.split('&').length, 4);
  assert.equal(completionUriParts(ref, -0.5).path, '/iter 12 · group 3 · #5 (adv -0.50).txt');
  assert.equal(completionUriParts(ref, null).path, '/iter 12 · group 3 · #5 (no adv).txt');
  assert.deepEqual(parseCompletionQuery(completionUriParts({ ...ref, runDir: 'C:\\Users\\me\\.grpo\\runs\\r 1' }, 0).query).runDir, 'C:\\Users\\me\\.grpo\\runs\\r 1');
});

test('a query this extension did not write is refused, naming the field', () => {
  assert.throws(() => parseCompletionQuery('iteration=1&group=0&member=0'), (e: Error) => e instanceof UserError && /run=/.test(e.message));
  assert.throws(() => parseCompletionQuery('run=%2Fr&iteration=1&group=x&member=0'), (e: Error) => e instanceof UserError && /group= is "x"/.test(e.message));
  assert.throws(() => parseCompletionQuery('run=%2Fr&iteration=1&group=0'), (e: Error) => e instanceof UserError && /member= is missing/.test(e.message));
});

test('advantages show their sign, and a rounded zero has none', () => {
  assert.equal(signed(1.234, 2), '+1.23');
  assert.equal(signed(-1.234, 2), '-1.23');
  assert.equal(signed(0.001, 2), '0.00');
  assert.equal(signed(-0.001, 2), '0.00');
  assert.equal(signed(0, 4), '0.0000');
});

function token(logprob: number | null, kl: number | null): CompletionToken {
  return { id: 1, text: 'a', start: 0, end: 1, logprob, refLogprob: null, kl };
}

test('token levels: unlikely tokens and tokens far from the reference get the strongest colour', () => {
  // log-prob: a quarter of the way to -5 before any colour, full at -5 and below.
  assert.deepEqual([-0.1, -0.6, -0.7, -2, -3.2, -4.4, -5, -40].map((lp) => tokenLevel(token(lp, null), 'logprob')), [0, 0, 1, 2, 3, 4, 4, 4]);
  assert.deepEqual([0, 0.1, 0.2, 0.5, 0.7, 0.9, 3].map((kl) => tokenLevel(token(-1, kl), 'kl')), [0, 0, 1, 2, 3, 4, 4]);
  assert.equal(tokenLevel(token(null, null), 'logprob'), 0);
  assert.equal(tokenLevel(token(-9, null), 'kl'), 0, 'no reference: no KL colour');
});

test('every highlight level has a theme colour in package.json, for each kind of theme', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  const colors = manifest.contributes.colors as { id: string; defaults: Record<string, string> }[];
  for (let level = 1; level <= LEVELS; level++) {
    const c = colors.find((x) => x.id === `grpoStudio.tokenLevel${level}`);
    assert.ok(c, `grpoStudio.tokenLevel${level} is contributed`);
    for (const kind of ['dark', 'light', 'highContrast']) assert.match(c.defaults[kind], /^#[0-9a-f]{6}[0-9a-f]{2}$/i, `${c.id} ${kind}: translucent`);
  }
});
