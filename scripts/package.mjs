// `npm run package`: the extension as .vsix files, one per platform.
//   npm run package                                    grpo-studio.vsix, for this machine's platform
//   npm run package -- --target darwin-arm64,win32-x64 grpo-studio-<target>.vsix for each one named
//   npm run package -- --target all                    the same for all of TARGETS
// It builds first, so a package never holds stale bundles. The extension runs from the bundles in
// out/; from node_modules it needs only esbuild, which compiles the user's reward files at run time
// with a native binary, so each package is for one platform (vsce --target) and carries that
// platform's binary, and webgpu, whose dawn.node the webgpu backend loads. What goes in is .vscodeignore's allow-list, read by `vsce ls` here; each
// package is made in a staging folder holding that list with the target's binary in place of
// this machine's. Binaries of other platforms are the @esbuild/<target> packages at the
// lockfile's version, fetched with `npm pack` and checked against the lockfile's integrity.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];
const cache = join(root, 'node_modules', '.cache', 'grpo-studio-package');
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(command, args, cwd, what) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) fail(`${what} failed (${r.error?.message ?? `exit status ${r.status}`})${r.stdout ? `:\n${r.stdout}` : ''}`);
  return r.stdout;
}

/** npm itself: the one running this script under `npm run` (npm_execpath), else the one on the PATH. */
function npm(args, cwd, what) {
  const cli = process.env.npm_execpath;
  return cli ? run(process.execPath, [cli, ...args], cwd, what) : run('npm', args, cwd, what);
}

/** The targets asked for: --target a,b | all; none: this machine's platform, as grpo-studio.vsix. */
function requestedTargets(argv) {
  const i = argv.indexOf('--target');
  const other = argv.filter((a, k) => k !== i && k !== i + 1);
  if (other.length > 0) fail(`unknown argument ${other[0]}; use --target ${TARGETS.join(',')} (or all)`);
  if (i < 0) {
    const host = `${process.platform}-${process.arch}`;
    if (!TARGETS.includes(host)) fail(`this machine is ${host}, which GRPO Studio is not packaged for; use --target with one of ${TARGETS.join(', ')}`);
    return [{ target: host, file: 'grpo-studio.vsix' }];
  }
  const list = argv[i + 1] === 'all' ? TARGETS : (argv[i + 1] ?? '').split(',').filter((t) => t !== '');
  const unknown = list.find((t) => !TARGETS.includes(t));
  if (list.length === 0 || unknown !== undefined) fail(`--target ${unknown ?? '(missing)'}: choose from ${TARGETS.join(', ')}, or all`);
  return list.map((target) => ({ target, file: `grpo-studio-${target}.vsix` }));
}

/** Where @esbuild/<target>'s binary lies inside its package. */
const binaryPath = (target) => (target.startsWith('win32') ? 'esbuild.exe' : join('bin', 'esbuild'));

/** The folder of @esbuild/<target> at the locked version: installed for this machine, else fetched once. */
function esbuildPackage(target, lock) {
  const name = `@esbuild/${target}`;
  const locked = lock.packages[`node_modules/${name}`];
  if (!locked) fail(`package-lock.json has no ${name}; run npm install once to record it`);
  const installed = join(root, 'node_modules', name);
  if (existsSync(join(installed, binaryPath(target)))) return installed;
  const dir = join(cache, `${target}-${locked.version}`);
  if (existsSync(join(dir, 'package', binaryPath(target)))) return join(dir, 'package');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`package: fetching ${name}@${locked.version} from the npm registry`);
  const [packed] = JSON.parse(npm(['pack', `${name}@${locked.version}`, '--json', '--pack-destination', dir], dir, `npm pack ${name}`));
  const tarball = join(dir, packed.filename);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== locked.integrity) fail(`${name}@${locked.version} does not match package-lock.json's integrity; not packaging it`);
  run('tar', ['-xzf', tarball, '-C', dir], dir, `unpacking ${tarball}`);
  return join(dir, 'package');
}

/** A folder with exactly what the package holds, the binary of `target` included. */
function stage(target, files, lock) {
  const dir = join(cache, 'stage', target);
  rmSync(dir, { recursive: true, force: true });
  for (const f of files.filter((f) => !f.startsWith('node_modules/@esbuild/') && !f.startsWith('node_modules/webgpu/'))) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
  }
  const binaries = esbuildPackage(target, lock);
  for (const f of ['package.json', binaryPath(target)]) {
    const to = join(dir, 'node_modules', '@esbuild', target, f);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(binaries, f), to);
  }
  const webgpu = stageDawn(target, dir);
  // Everything else is bundled into out/, so the packaged manifest depends on esbuild (and
  // webgpu) alone; vsce checks that list against the staged node_modules.
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const esbuildVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  manifest.dependencies = { esbuild: esbuildVersion, ...(webgpu ? { webgpu } : {}) };
  for (const k of ['devDependencies', 'optionalDependencies', 'scripts', 'allowScripts']) delete manifest[k];
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  copyFileSync(join(root, '.vscodeignore'), join(dir, '.vscodeignore'));
  return dir;
}

/**
 * The webgpu package (Dawn's dawn.node, for `--backend webgpu`) with the target's binary only:
 * the npm package holds every platform's (130 MB). Its manifest is trimmed to what Node reads,
 * since its dependencies (type definitions, a logger for its install script) are not needed to
 * run it. Returns the version staged, or undefined where the optional package is not installed
 * here, and then the editor's `webgpu` falls back to wasm with that reason.
 */
function stageDawn(target, dir) {
  const from = join(root, 'node_modules', 'webgpu');
  const platform = target.startsWith('darwin') ? 'darwin-universal' : target;
  if (!existsSync(join(from, 'dist', platform, 'dawn.node'))) {
    console.log(`package: node_modules/webgpu has no dawn.node for ${target}; the ${target} package goes without the webgpu backend`);
    return undefined;
  }
  const to = join(dir, 'node_modules', 'webgpu');
  mkdirSync(join(to, 'dist', platform), { recursive: true });
  for (const f of ['index.js', 'LICENSE.md']) copyFileSync(join(from, f), join(to, f));
  for (const f of readdirSync(join(from, 'dist', platform))) copyFileSync(join(from, 'dist', platform, f), join(to, 'dist', platform, f));
  const { name, version, type, main, license } = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  writeFileSync(join(to, 'package.json'), JSON.stringify({ name, version, type, main, license }, null, 2) + '\n');
  return version;
}

const targets = requestedTargets(process.argv.slice(2));
run(process.execPath, [join(root, 'scripts', 'build.mjs')], root, 'npm run build');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const files = run(process.execPath, [vsce, 'ls'], root, 'vsce ls').split('\n').filter((f) => f !== '');
for (const { target, file } of targets) {
  const dir = stage(target, files, lock);
  // No repository or license to link to yet; README links stay relative (their files are packaged).
  const args = ['package', '--target', target, '--out', join(root, file), '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links'];
  run(process.execPath, [vsce, ...args], dir, `vsce package --target ${target}`);
  console.log(`package: wrote ${file} (${target})`);
}
