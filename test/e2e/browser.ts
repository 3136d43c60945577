// Debian's chromium, driven by playwright-core (Playwright's own browser download needs the internet).
import { chromium, type Browser } from 'playwright-core';
import { browserPackages, ensureDebianPackages } from './system-packages';

export const chromiumPath = '/usr/bin/chromium';

export function ensureBrowser(): void {
  ensureDebianPackages(browserPackages);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
