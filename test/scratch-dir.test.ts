// A killed trainer leaves its scratch folder (the policy as GGUF, 0.1-0.5 GB) behind; the next
// process to make one removes the folders of processes that are gone, and only those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { scratchDir } from '../src/engine/scratch-dir';

test('scratchDir removes the folders of dead processes, keeps live ones, and makes its own', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited by now
  const prefix = `grpo-scratch-test-${process.pid}`;
  const orphan = join(tmpdir(), `${prefix}-${dead}-left`);
  const mine = join(tmpdir(), `${prefix}-${process.pid}-live`);
  const other = join(tmpdir(), `${prefix}x-${dead}-unrelated`);
  for (const d of [orphan, mine, other]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'policy.gguf'), 'x');
  }
  try {
    const made = await scratchDir(prefix);
    assert.ok(existsSync(made) && basename(made).startsWith(`${prefix}-${process.pid}-`));
    assert.equal(existsSync(orphan), false, 'a dead process\'s folder is removed');
    assert.equal(existsSync(mine), true, 'a live process\'s folder stays');
    assert.equal(existsSync(other), true, 'another prefix is not touched');
    rmSync(made, { recursive: true });
  } finally {
    for (const d of [orphan, mine, other]) rmSync(d, { recursive: true, force: true });
  }
});
