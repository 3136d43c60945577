// `node --import tsx test/e2e/setup.ts`: what the end-to-end suite needs outside the clone
// (code-server, cached; Debian's chromium). A second run finds the cache and takes seconds.
import { ensureBrowser } from './browser';
import { ensureCodeServer } from './code-server-install';

const started = Date.now();
const install = ensureCodeServer();
ensureBrowser();
console.log(`e2e setup: code-server at ${install.packageDir}, chromium ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
