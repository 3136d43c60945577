// Writes the disk refuses: a read-only checkpoints folder, a full disk, a file where the
// output folder should be. `grpo train` stops with one line naming the path and the fix, the
// previous checkpoint stays complete and loadable, and a resume once the disk is fixed ends
// the run with every iteration logged once.
//
// chmod does not stop root (CI runs as root), so as root the folder is made read-only with a
// read-only bind mount, and the disk made full with a small tmpfs; where mounting is not
// allowed either, those tests are skipped and say why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpo } from './helpers/cli';
import { checkCheckpoints, checkFinishedRun, modelTensors, writeKillConfig } from './helpers/kill-trial';

const work = mkdtempSync(join(tmpdir(), 'grpo-faults-disk-'));
const root = process.getuid?.() === 0;
const mounts: string[] = [];
let names: Map<string, number[]>;

const mount = (...args: string[]) => spawnSync('mount', args, { encoding: 'utf8' });
/** Whether this process may mount (root with CAP_SYS_ADMIN); tried once on a scratch folder. */
function canMount(): boolean {
  const probe = join(work, 'mount-probe');
  mkdirSync(probe, { recursive: true });
  if (mount('-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe).status !== 0) return false;
  spawnSync('umount', [probe]);
  return true;
}
const mountable = root && canMount();
const noReadOnly = root && !mountable ? 'running as root without the right to mount: neither chmod nor a read-only bind mount can refuse root a write' : false;
const noFullDisk = mountable ? false : 'needs root with the right to mount a small tmpfs to make a disk full';

before(async () => {
  assert.ok(existsSync(join(__dirname, '..', 'out', 'cli.js')), 'out/cli.js is missing: run npm run build first');
  names = await modelTensors();
});

after(() => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
});

/** A 2-iteration run in `dir`/runs, checkpointed every iteration; returns its folder. */
function trainTwo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const r = grpo('train', '--config', writeKillConfig(dir, 2));
  assert.equal(r.code, 0, r.stderr);
  const runs = join(dir, 'runs');
  return join(runs, readdirSync(runs)[0]);
}

/** The resume to iteration 3 fails with `message`; then checkpoint 2 is the newest and loads. */
async function resumeFails(run: string, message: RegExp): Promise<void> {
  const r = grpo('train', '--resume', run, '--num_iterations', '3');
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack trace:\n${r.stderr}`);
  assert.deepEqual(await checkCheckpoints(run, names), [1, 2]);
}

function resumeSucceeds(run: string): void {
  const r = grpo('train', '--resume', run, '--num_iterations', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resuming after iteration 2\b/);
  checkFinishedRun(run, 3);
}

test('a read-only checkpoints folder stops the run naming the checkpoint and the fix; the previous checkpoint stays intact', { skip: noReadOnly }, async () => {
  const run = trainTwo(join(work, 'read-only'));
  const checkpoints = join(run, 'checkpoints');
  if (root) {
    assert.equal(mount('--bind', checkpoints, checkpoints).status, 0);
    mounts.push(checkpoints);
    assert.equal(mount('-o', 'remount,ro,bind', checkpoints).status, 0);
  } else {
    chmodSync(checkpoints, 0o555);
  }
  const why = root ? 'the file system is read-only; set output_dir to a writable disk' : 'permission denied; make the folder writable \\(chmod u\\+w\\)';
  await resumeFails(run, new RegExp(`cannot write ${checkpoints}/iter-000003 \\(.*\\): ${why}.*; the previous checkpoint ${checkpoints}/iter-000002 is intact and the run can resume from it`));
  if (root) {
    spawnSync('umount', [mounts.pop()!]);
  } else {
    chmodSync(checkpoints, 0o755);
  }
  resumeSucceeds(run);
});

test('a read-only output_dir: the run does not start, and the message names the folder and the fix', { skip: noReadOnly }, () => {
  const dir = join(work, 'read-only-output');
  const runs = join(dir, 'runs');
  mkdirSync(runs, { recursive: true });
  const config = writeKillConfig(dir, 1);
  if (root) {
    assert.equal(mount('--bind', runs, runs).status, 0);
    mounts.push(runs);
    assert.equal(mount('-o', 'remount,ro,bind', runs).status, 0);
  } else {
    chmodSync(runs, 0o555);
  }
  const r = grpo('train', '--config', config);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`^grpo train: cannot write ${runs}/[-\\d]+ \\(mkdir failed with (EROFS|EACCES)\\): .*set output_dir to .*; the run did not start\n$`));
});

test('a full disk while saving a checkpoint stops the run naming it and the fix, and leaves no partial save', { skip: noFullDisk }, async () => {
  const dir = join(work, 'full');
  const disk = join(dir, 'runs');
  mkdirSync(disk, { recursive: true });
  assert.equal(mount('-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', disk).status, 0);
  mounts.push(disk);
  const run = trainTwo(dir);
  // Leave room for an iteration's records (a few kB) but not for a checkpoint (about 5 MB).
  const free = () => {
    const s = statfsSync(disk);
    return s.bavail * s.bsize;
  };
  writeFileSync(join(disk, 'filler'), Buffer.alloc(free() - 256 * 1024));
  await resumeFails(run, new RegExp(`cannot write ${run}/checkpoints/iter-000003 \\(.*ENOSPC\\): no space left on the device; free some, or set output_dir to a disk with room; the previous checkpoint ${run}/checkpoints/iter-000002 is intact`));
  assert.deepEqual(readdirSync(join(run, 'checkpoints')).filter((f) => f.startsWith('.')), [], 'the partial save was removed');
  spawnSync('rm', [join(disk, 'filler')]);
  resumeSucceeds(run);
});

test('a file where output_dir should be: the message names it and the fix', () => {
  const dir = join(work, 'file');
  mkdirSync(dir);
  const config = writeKillConfig(dir, 1);
  writeFileSync(join(dir, 'runs'), 'not a folder');
  const r = grpo('train', '--config', config);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`${join(dir, 'runs')}.*a file is where a folder should be; move that file away`));
});
