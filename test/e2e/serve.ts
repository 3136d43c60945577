// `npm run e2e:serve -- [FOLDER] [--port N]`: code-server with the packaged extension (grpo-studio.vsix,
// from `npm run package`) installed, on FOLDER (default: a fresh copy of the e2e fixture workspace),
// for a look at the extension in a real editor. Prints the URL; Ctrl+C stops it.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer } from './code-server-install';
import { startCodeServer } from './code-server';
import { makeFixtureWorkspace } from './fixture-workspace';

const root = join(__dirname, '..', '..');

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { port: { type: 'string' } }, allowPositionals: true });
  const vsix = join(root, 'grpo-studio.vsix');
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run build && npm run package\` first`);
  const folder = positionals[0] ? resolve(positionals[0]) : makeFixtureWorkspace('grpo-demo');
  const logDir = join(root, 'test-artifacts', 'e2e');
  mkdirSync(logDir, { recursive: true });
  const server = await startCodeServer({
    install: ensureCodeServer(),
    vsix,
    logFile: join(logDir, 'serve-code-server.log'),
    port: values.port ? Number(values.port) : undefined,
  });
  console.log(`code-server: ${server.url}?folder=${encodeURIComponent(folder)}`);
  console.log(`folder: ${folder}\nuser data: ${server.userDataDir}\nlog: ${join(logDir, 'serve-code-server.log')}\nCtrl+C stops it.`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
