import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardHtml, newNonce } from '../src/extension/dashboard/dashboard-html';
import { dashboardTitle, REMEMBERED_RUNS, rememberRun, restoredRunDir } from '../src/extension/dashboard/restore';

const sources = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/out/webview.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/out/webview.css',
};

function csp(html: string): string {
  const m = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  assert.ok(m, 'the page declares a CSP');
  return m[1];
}

test('page: CSP allows nothing by default, scripts only by nonce, styles only from the extension', () => {
  const nonce = newNonce();
  const policy = csp(dashboardHtml(sources, nonce));
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
  assert.match(policy, /style-src https:\/\/file\+\.vscode-resource\.vscode-cdn\.net(;|$)/);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
});

test('page: one script, the bundle, carrying the nonce; the stylesheet; no inline handlers', () => {
  const nonce = newNonce();
  const html = dashboardHtml(sources, nonce);
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="${sources.scriptUri}">`]);
  assert.match(html, new RegExp(`<link rel="stylesheet" href="${sources.styleUri.replace(/[.+]/g, '\\$&')}">`));
  assert.doesNotMatch(html, /\son[a-z]+=/);
});

test('page: a quote in a URI cannot break out of its attribute', () => {
  const html = dashboardHtml({ ...sources, scriptUri: 'x" onload="alert(1)' }, 'n');
  assert.ok(html.includes('src="x&quot; onload=&quot;alert(1)"'));
  assert.doesNotMatch(html, /onload="/);
});

test('nonce: fresh per page, URL-safe, at least 128 bits', () => {
  const a = newNonce();
  assert.notEqual(a, newNonce());
  assert.match(a, /^[A-Za-z0-9_-]{24,}$/);
});

test('restore: a remembered saved runDir wins, any other is refused; else the title finds the remembered run folder', () => {
  const remembered = ['/w/.grpo/runs/20261124-231500', '/w/.grpo/runs/20261124-220000'];
  assert.equal(restoredRunDir('anything', { runDir: remembered[1] }, remembered), remembered[1]);
  // A page's saved state cannot point a dashboard at a folder the host never opened.
  assert.equal(restoredRunDir('anything', { runDir: '/home/user/.ssh' }, remembered), undefined);
  assert.equal(restoredRunDir('anything', { runDir: `${remembered[0]}/../../..` }, remembered), undefined);
  assert.equal(restoredRunDir(dashboardTitle('/elsewhere/20261124-220000'), { pickedIteration: 3 }, remembered), remembered[1]);
  assert.equal(restoredRunDir('GRPO · unknown', undefined, remembered), undefined);
});

test('remembered runs: newest first, no duplicates, bounded', () => {
  let runs: string[] = [];
  for (let i = 0; i < REMEMBERED_RUNS + 5; i++) runs = rememberRun(runs, `/r${i}`);
  runs = rememberRun(runs, '/r10');
  assert.equal(runs.length, REMEMBERED_RUNS);
  assert.equal(runs[0], '/r10');
  assert.equal(runs.filter((r) => r === '/r10').length, 1);
});
