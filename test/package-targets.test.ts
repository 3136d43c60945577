// `npm run package -- --target all`, from the build up: each platform's .vsix names its target,
// holds the esbuild binary of that platform (by the binary's own header) and no other, packs
// bundles built just now rather than whatever out/ held, and every relative link of its README
// resolves to a file in the package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipEntries, type ZipEntry } from './helpers/zip-entries';

const root = join(__dirname, '..');

/** What each target's binary must be: the executable format and the machine it says it runs on. */
const BINARIES: Record<string, { path: string; format: (b: Buffer) => string }> = {
  'linux-x64': { path: 'bin/esbuild', format: elf },
  'linux-arm64': { path: 'bin/esbuild', format: elf },
  'darwin-x64': { path: 'bin/esbuild', format: machO },
  'darwin-arm64': { path: 'bin/esbuild', format: machO },
  'win32-x64': { path: 'esbuild.exe', format: pe },
};
const EXPECTED_FORMAT: Record<string, string> = {
  'linux-x64': 'ELF x86-64',
  'linux-arm64': 'ELF aarch64',
  'darwin-x64': 'Mach-O x86-64',
  'darwin-arm64': 'Mach-O arm64',
  'win32-x64': 'PE x86-64',
};

function elf(b: Buffer): string {
  if (b.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
  const machine = b.readUInt16LE(0x12);
  return `ELF ${machine === 0x3e ? 'x86-64' : machine === 0xb7 ? 'aarch64' : `machine ${machine}`}`;
}

function machO(b: Buffer): string {
  if (b.readUInt32LE(0) !== 0xfeedfacf) return 'not Mach-O 64';
  const cpu = b.readUInt32LE(4);
  return `Mach-O ${cpu === 0x01000007 ? 'x86-64' : cpu === 0x0100000c ? 'arm64' : `cpu ${cpu}`}`;
}

function pe(b: Buffer): string {
  if (b.toString('latin1', 0, 2) !== 'MZ') return 'not PE';
  const at = b.readUInt32LE(0x3c);
  if (b.toString('latin1', at, at + 4) !== 'PE\0\0') return 'not PE';
  const machine = b.readUInt16LE(at + 4);
  return `PE ${machine === 0x8664 ? 'x86-64' : `machine ${machine}`}`;
}

const STALE = '// a stale bundle that packaging must replace';

test('every platform package holds its own esbuild binary and dawn.node, fresh bundles, and the files its README links', { timeout: 600_000 }, () => {
  if (existsSync(join(root, 'out', 'extension.js'))) appendFileSync(join(root, 'out', 'extension.js'), `\n${STALE}\n`);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--target', 'all'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const esbuildVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;

  for (const [target, binary] of Object.entries(BINARIES)) {
    const file = join(root, `grpo-studio-${target}.vsix`);
    const entries = new Map<string, ZipEntry>(zipEntries(file).map((e) => [e.name, e]));
    const text = (name: string) => entries.get(name)!.read().toString('utf8');
    assert.match(text('extension.vsixmanifest'), new RegExp(`TargetPlatform="${target}"`), `${target}: the manifest names the target`);

    const platformFiles = [...entries.keys()].filter((n) => n.startsWith('extension/node_modules/@esbuild/')).sort();
    assert.deepEqual(platformFiles, [`extension/node_modules/@esbuild/${target}/${binary.path}`, `extension/node_modules/@esbuild/${target}/package.json`].sort(), `${target}: one platform's binary`);
    const binaryPackage = JSON.parse(text(`extension/node_modules/@esbuild/${target}/package.json`));
    assert.equal(binaryPackage.version, esbuildVersion, `${target}: the binary is esbuild ${esbuildVersion}'s`);
    const head = entries.get(`extension/node_modules/@esbuild/${target}/${binary.path}`)!.read().subarray(0, 4096);
    assert.equal(binary.format(head), EXPECTED_FORMAT[target], `${target}: the binary is built for it`);

    assert.ok(!text('extension/out/extension.js').includes(STALE), `${target}: packs the bundle built now, not the one out/ held`);
    const webgpuVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'webgpu', 'package.json'), 'utf8')).version;
    assert.deepEqual(JSON.parse(text('extension/package.json')).dependencies, { esbuild: esbuildVersion, webgpu: webgpuVersion }, 'the packaged manifest depends on what it packs');
    // The webgpu backend's Dawn: this platform's dawn.node (macOS: the universal one) and no other.
    const dawn = [...entries.keys()].filter((n) => n.startsWith('extension/node_modules/webgpu/') && n.endsWith('dawn.node'));
    assert.deepEqual(dawn, [`extension/node_modules/webgpu/dist/${target.startsWith('darwin') ? 'darwin-universal' : target}/dawn.node`], `${target}: one platform's dawn.node`);
    assert.ok(entries.has('extension/node_modules/webgpu/index.js'), `${target}: webgpu's entry point is packed`);

    // The trl engine runs this package with the user's Python (src/trl/python.ts: trlPackageRoot).
    for (const py of readdirSync(join(root, 'python', 'grpo_trl')).filter((f) => f.endsWith('.py'))) {
      assert.ok(entries.has(`extension/python/grpo_trl/${py}`), `${target}: the trl engine's python/grpo_trl/${py} is packed`);
    }

    const readme = text('extension/readme.md');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    assert.ok(links.includes('src/rewards/README.md'), 'the README links the reward API reference');
    for (const link of links) assert.ok(entries.has(`extension/${link}`), `${target}: README links ${link}, which the package lacks`);
  }
});
