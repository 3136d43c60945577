#!/usr/bin/env node
// The `grpo` command: a thin launcher for the bundled CLI (built by `npm run build`).
require('../out/cli.js');
