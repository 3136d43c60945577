// The dashboard as it runs: the host's page (its CSP, its nonce) with the real bundle
// (out/webview.js) in headless Chromium, sent a snapshot whose prompt, completion, tokens and
// reward error are HTML. Nothing of it may run or become an element; it shows as text. A
// script added without the page's nonce is blocked by the CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { dashboardHtml, newNonce } from '../src/extension/dashboard/dashboard-html';
import type { HostMessage } from '../src/protocol/dashboard-messages';
import { completion, metricsLine, runInfo } from './helpers/dashboard-samples';

// The page's globals, as the functions run in it below use them (the project's tsconfig has no DOM library).
declare const window: { __posted: { type: string }[]; __pwned?: string; __inline?: string; postMessage(message: unknown, origin: string): void };
declare const document: {
  body: { textContent: string | null; append(node: unknown): void };
  querySelectorAll(selector: string): { length: number };
  createElement(tag: string): { textContent: string };
};

const CHROMIUM = '/usr/bin/chromium';
const OUT = resolve(__dirname, '..', 'out');
const IMG = '<img src=x onerror="window.__pwned=\'img\'">';
const SCRIPT = '<script>window.__pwned=\'script\'</script>';

function page(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-webview-'));
  for (const f of ['webview.js', 'webview.css']) if (existsSync(join(OUT, f))) copyFileSync(join(OUT, f), join(dir, f));
  const nonce = newNonce();
  const base = pathToFileURL(dir).href;
  const html = dashboardHtml({ cspSource: 'file:', scriptUri: `${base}/webview.js`, styleUri: `${base}/webview.css` }, nonce)
    // VS Code's webview API, as the page expects it; nonce'd like the bundle, so the CSP admits it.
    .replace('<body>', `<body><script nonce="${nonce}">window.__posted=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>window.__posted.push(m),getState:()=>undefined,setState:()=>{}});</script>`);
  writeFileSync(join(dir, 'page.html'), html);
  return pathToFileURL(join(dir, 'page.html')).href;
}

const snapshot: HostMessage = {
  type: 'snapshot',
  run: runInfo({ name: '<b>run</b>', readOnly: true }),
  status: { state: 'finished', iteration: 1, message: '<b>status</b>' },
  metrics: [metricsLine(1)],
  rolloutIterations: [1],
  rollouts: {
    iteration: 1,
    completions: [
      completion({ group: 0, member: 0, prompt: SCRIPT, completion: IMG, completion_ids: [1, 2], tokens: ['<img src=x ', 'onerror="window.__pwned=\'img\'">'], reward: 1, advantage: 0.7 }),
      completion({ group: 0, member: 1, prompt: SCRIPT, completion: SCRIPT, completion_ids: [3], tokens: [SCRIPT], reward: 0, advantage: -0.7 }),
    ],
  },
  rewardFailures: [{ iteration: 1, failed: [{ fn: 'exact', errors: [{ kind: 'threw', message: '<iframe src=x>', stack: '<svg onload=alert(1)>', samples: [0] }] }] }],
  evaluations: [],
};

test('the dashboard shows hostile model output as text, and its CSP blocks a script without the nonce', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed` }, async () => {
  assert.ok(existsSync(join(OUT, 'webview.js')), `${OUT}/webview.js is missing: run npm run build first`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });
  try {
    const tab = await browser.newPage();
    const violations: string[] = [];
    tab.on('console', (m) => /Content Security Policy/.test(m.text()) && violations.push(m.text()));
    await tab.goto(page());
    await tab.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
    await tab.evaluate((m) => window.postMessage(m, '*'), snapshot);
    await tab.waitForFunction((text) => document.body.textContent?.includes(text), IMG, { timeout: 10_000 });

    const seen = await tab.evaluate(() => ({
      pwned: window.__pwned,
      images: document.querySelectorAll('img, iframe, svg, b').length,
      scripts: document.querySelectorAll('script').length, // the stub and the bundle
      text: document.body.textContent ?? '',
    }));
    assert.equal(seen.pwned, undefined, 'no payload ran');
    assert.equal(seen.images, 0, 'no <img>, <iframe>, <svg> or <b> element came from the run');
    assert.equal(seen.scripts, 2, 'no <script> element came from model output');
    assert.ok(seen.text.includes(IMG), 'the completion shows literally');
    assert.ok(seen.text.includes(SCRIPT), 'the prompt shows literally');

    const inline = await tab.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = "window.__inline = 'ran'";
      document.body.append(s);
      return window.__inline;
    });
    assert.equal(inline, undefined, 'a script without the nonce does not run');
    assert.ok(violations.length > 0, 'the CSP reported the blocked script');
  } finally {
    await browser.close();
  }
});
