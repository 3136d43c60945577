#!/usr/bin/env node
// The `grpo` command: a thin launcher for the bundled CLI, which `npm run build` writes.
const { existsSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const cli = join(root, 'out', 'cli.js');
if (!existsSync(cli)) {
  const where = relative(process.cwd(), root) || '.';
  process.stderr.write(`grpo: ${relative(root, cli)} is not built yet; run \`npm run build\` in ${where} first (after \`npm ci\`)\n`);
  process.exit(1);
}
require(cli);
