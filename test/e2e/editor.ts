// The editor a scenario drives: code-server with the packaged extension installed, and a
// Chromium page on it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { ensureCodeServer } from './code-server-install';
import { startCodeServer, type CodeServer } from './code-server';
import { Dashboard } from './dashboard';
import { Workbench } from './workbench';

export interface Editor {
  server: CodeServer;
  browser: Browser;
  page: Page;
  workbench: Workbench;
  dashboard: Dashboard;
}

/** `settings`: user settings besides the suite's own; the server's log goes to `artifacts`. */
export async function openEditor(artifacts: string, settings?: Record<string, unknown>): Promise<Editor> {
  mkdirSync(artifacts, { recursive: true });
  const vsix = join(__dirname, '..', '..', 'grpo-studio.vsix');
  assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  const server = await startCodeServer({ install: ensureCodeServer(), vsix, logFile: join(artifacts, 'code-server.log'), settings });
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(60_000);
  const workbench = new Workbench(page);
  return { server, browser, page, workbench, dashboard: new Dashboard(workbench.webview()) };
}

/** Closes what `openEditor` opened, as far as it got. */
export async function closeEditor(browser: Browser | undefined, server: CodeServer | undefined): Promise<void> {
  await browser?.close();
  await server?.stop();
}
