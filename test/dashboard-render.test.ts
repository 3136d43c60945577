// The render path puts completions, prompts and reward errors in as text: rendered against a
// fake document that has no innerHTML at all, a completion that is HTML shows literally.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderAlerts } from '../webview/alerts-render';
import type { DomDocument, DomElement } from '../webview/dom';
import { groupRollout } from '../webview/rollout-groups';
import { renderGroups } from '../webview/rollout-render';
import { completion } from './helpers/dashboard-samples';

/** An element that records what was set; reaching for innerHTML throws. */
class FakeElement implements DomElement {
  children: FakeElement[] = [];
  text: string | null = null;
  title = '';
  className = '';
  hidden = false;
  attributes: Record<string, string> = {};
  styles: Record<string, string> = {};
  readonly style = { setProperty: (name: string, value: string) => void (this.styles[name] = value) };
  constructor(readonly tag: string) {}
  get textContent(): string | null {
    return this.text ?? this.children.map((c) => c.textContent).join('');
  }
  set textContent(v: string | null) {
    this.children = [];
    this.text = v;
  }
  get innerHTML(): string {
    throw new Error('the render path must not use innerHTML');
  }
  set innerHTML(_: string) {
    throw new Error('the render path must not use innerHTML');
  }
  setAttribute(name: string, value: string): void {
    this.attributes[name] = value;
  }
  append(...children: FakeElement[]): void {
    this.text = null;
    this.children.push(...children);
  }
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => c.all())];
  }
  byClass(name: string): FakeElement[] {
    return this.all().filter((e) => e.className.split(' ').includes(name));
  }
}

const fakeDocument: DomDocument<FakeElement> = { createElement: (tag) => new FakeElement(tag) };
const XSS = '<img src=x onerror=alert(1)>';

describe('rollout rendering', () => {
  const completions = [
    completion({ group: 0, member: 0, prompt: '<script>alert(2)</script>', completion: XSS, completion_ids: [1, 2], tokens: ['<img src=x', ' onerror=alert(1)>'], reward: 0, advantage: -0.7, logprobs: [-0.1, -3] }),
    completion({ group: 0, member: 1, prompt: '<script>alert(2)</script>', completion: '42', completion_ids: [3, 4, 5], tokens: ['4', '2', ''], reward: 1, rewards: { exact: 1 }, advantage: 0.7, logprobs: [-0.2, -0.3, -0.01], finish_reason: 'length' }),
  ];

  for (const colouring of ['none', 'logprob', 'kl'] as const) {
    it(`shows a completion that is HTML literally, as text (${colouring})`, () => {
      const root = renderGroups(fakeDocument, groupRollout(completions), colouring);
      assert.ok(root.all().every((e) => !['img', 'script'].includes(e.tag)), 'no element made from completion text');
      const texts = root.byClass('completion').map((e) => e.textContent);
      assert.ok(texts.includes(XSS), `completion text: ${JSON.stringify(texts)}`);
      assert.equal(root.byClass('prompt')[0].textContent, '<script>alert(2)</script>');
    });
  }

  it('lists members best advantage first with a bar scaled to the largest advantage', () => {
    const root = renderGroups(fakeDocument, groupRollout(completions), 'none');
    assert.deepEqual(root.byClass('advantage-value').map((e) => e.textContent), ['+0.70', '-0.70']);
    const fills = root.byClass('advantage-fill');
    assert.deepEqual(fills.map((f) => [f.className, f.styles['--share']]), [['advantage-fill positive', '1'], ['advantage-fill negative', '1']]);
    assert.deepEqual(root.byClass('finish').map((e) => e.textContent), ['truncated', '2 tokens']);
    assert.deepEqual(root.byClass('open-completion').map((b) => [b.attributes['data-group'], b.attributes['data-member']]), [['0', '1'], ['0', '0']]);
  });

  it('colours tokens with the value on hover, and marks an empty token', () => {
    const root = renderGroups(fakeDocument, groupRollout(completions), 'logprob');
    const tokens = root.byClass('token');
    assert.deepEqual(tokens.map((t) => t.textContent), ['4', '2', '∅', '<img src=x', ' onerror=alert(1)>']);
    assert.equal(tokens[4].styles['--intensity'], '0.600'); // -3 / -5
    assert.match(tokens[4].title, /token 2: log-probability -3\.000/);
  });
});

describe('alert rendering', () => {
  it('shows a reward error message and stack as text', () => {
    const root = renderAlerts(fakeDocument, [{ kind: 'reward-failure', severity: 'error', title: 't', detail: XSS, stack: `at ${XSS}` }]);
    assert.equal(root.byClass('alert-detail')[0].textContent, XSS);
    assert.equal(root.byClass('alert-stack')[0].textContent, `at ${XSS}`);
    assert.equal(root.byClass('alert')[0].className, 'alert error');
    assert.ok(root.all().every((e) => e.tag !== 'img'));
  });
});
