// `npm run package`: the extension as grpo-studio.vsix (Linux x64, for the esbuild binary it
// carries), from the bundles `npm run build` wrote to out/. What goes in is .vscodeignore's
// allow-list; vsce adds package.json and the manifest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const vsix = join(root, 'grpo-studio.vsix');
const bundles = ['extension.js', 'trainer-process.js', 'reward-worker.js', 'webview.js', 'grpo.config.schema.json'];
const missing = bundles.filter((f) => !existsSync(join(root, 'out', f)));
if (missing.length > 0) {
  console.error(`package: out/ lacks ${missing.join(', ')}; run \`npm run build\` first`);
  process.exit(1);
}

const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [
  'package', '--target', 'linux-x64', '--out', vsix,
  // No repository or license to link to yet; README links stay relative.
  '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links',
];
const r = spawnSync(process.execPath, [vsce, ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
