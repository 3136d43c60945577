// Scratch folders for a process's own large temporary files (the policy as GGUF for llama.cpp
// is 0.1-0.5 GB). A killed trainer cannot remove its folder, so each is named after its
// process, and making one removes those of processes that no longer exist.
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new folder `<tmp>/<prefix>-<pid>-XXXXXX`, after removing `<prefix>-*` folders of dead processes. */
export async function scratchDir(prefix: string): Promise<string> {
  const root = tmpdir();
  const names = await fsp.readdir(root).catch(() => [] as string[]);
  await Promise.all(names.map(async (name) => {
    const m = new RegExp(`^${prefix}-(\\d+)-`).exec(name);
    if (!m || isAlive(Number(m[1]))) return;
    await fsp.rm(join(root, name), { recursive: true, force: true }).catch(() => undefined);
  }));
  return fsp.mkdtemp(join(root, `${prefix}-${process.pid}-`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
