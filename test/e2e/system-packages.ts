// Debian packages the end-to-end setup needs: headers to rebuild code-server's native modules,
// ripgrep (code-server's own download of it needs the internet) and the browser.
import { spawnSync } from 'node:child_process';
import { run } from './shell';

/** Build inputs for code-server's native modules (kerberos, node-pty, @parcel/watcher, argon2). */
export const codeServerBuildPackages = ['libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config', 'ripgrep'];
export const browserPackages = ['chromium'];

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs the missing ones with apt-get when we are root; otherwise says what to install. */
export function ensureDebianPackages(packages: string[]): void {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new Error(`e2e setup: missing Debian packages ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  console.log(`e2e setup: installing ${missing.join(' ')} with apt-get`);
  run('apt-get', ['update', '-q']);
  run('apt-get', ['install', '-y', '-q', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
