// Restricted Mode: no reward code is compiled or run by any path. Each guard is tested on its
// own: the lowest ones (where the trainer and the rescore process are started; that the extension
// bundle holds no reward compiler or runner is in extension-bundle.test.ts), whatever
// called them, and each command's refusal before it reads anything of the workspace. The
// "trainer" and "CLI" here are scripts that leave a marker file when started, so a process
// that should not have run shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installVscodeStub } from './helpers/vscode-stub';

const vscode = installVscodeStub();
/* eslint-disable @typescript-eslint/no-require-imports -- required after the stub is installed */
const { TrainingSession } = require('../src/extension/training-session') as typeof import('../src/extension/training-session');
const { startTraining, launchSession } = require('../src/extension/commands/start-training') as typeof import('../src/extension/commands/start-training');
const { resumeRun } = require('../src/extension/commands/resume-run') as typeof import('../src/extension/commands/resume-run');
const { previewReward } = require('../src/extension/commands/preview-reward') as typeof import('../src/extension/commands/preview-reward');
const { SessionSlot } = require('../src/extension/session-slot') as typeof import('../src/extension/session-slot');
const { runRescore } = require('../src/extension/reward-preview/rescore-process') as typeof import('../src/extension/reward-preview/rescore-process');
import type { HostState } from '../src/extension/host-state';
import type { PreparedStart } from '../src/extension/start-config';
import type { GrpoSettings } from '../src/extension/settings';

/** An extension folder whose out/trainer-process.js and out/cli.js write `marker` and exit. */
function fakeExtension(): { extensionPath: string; trainerRan: () => boolean; cliRan: () => boolean } {
  const extensionPath = mkdtempSync(join(tmpdir(), 'grpo-trust-'));
  mkdirSync(join(extensionPath, 'out'));
  for (const name of ['trainer-process', 'cli']) {
    writeFileSync(join(extensionPath, 'out', `${name}.js`), `require('fs').writeFileSync(${JSON.stringify(join(extensionPath, `${name}.ran`))}, 'ran');\n`);
  }
  return {
    extensionPath,
    trainerRan: () => existsSync(join(extensionPath, 'trainer-process.ran')),
    cliRan: () => existsSync(join(extensionPath, 'cli.ran')),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 1500)); // long enough for a forked Node to start
const prepared = { start: { resumeRunDir: '/nowhere', workspaceRoot: '/nowhere' }, config: { num_iterations: 1 }, warnings: [] } as unknown as PreparedStart;
const RESTRICTED = /disabled in Restricted Mode, because training runs the workspace's reward functions/;

function hostState(extensionPath: string): HostState {
  const lines: string[] = [];
  return { slot: new SessionSlot(), output: { appendLine: (l: string) => lines.push(l) }, extensionPath, dashboards: {} } as unknown as HostState;
}

function reset(trusted: boolean): void {
  vscode.workspace.isTrusted = trusted;
  vscode.shown.length = 0;
  vscode.reached.length = 0;
}

test('the trainer process: a TrainingSession refuses in Restricted Mode before forking, whoever creates it', async () => {
  reset(false);
  const ext = fakeExtension();
  const options = { script: join(ext.extensionPath, 'out', 'trainer-process.js'), cwd: ext.extensionPath, stopGraceMs: 1000 };
  assert.throws(() => new TrainingSession(prepared, options), RESTRICTED);
  await settle();
  assert.equal(ext.trainerRan(), false, 'no trainer process was started');

  reset(true); // the same call in a trusted workspace does start it: the marker works
  const session = new TrainingSession(prepared, options);
  await session.ended;
  assert.equal(ext.trainerRan(), true);
});

test('launchSession, the one way commands start the trainer, shows the refusal and holds no session', async () => {
  reset(false);
  const ext = fakeExtension();
  const state = hostState(ext.extensionPath);
  launchSession(state, prepared, ext.extensionPath, { stopGraceMs: 1000, nodePath: '', backend: 'auto' } as GrpoSettings);
  await settle();
  assert.equal(state.slot.current, undefined);
  assert.equal(ext.trainerRan(), false);
  assert.equal(vscode.shown.length, 1);
  assert.match(vscode.shown[0], RESTRICTED);
});

test('the rescore process: runRescore in Restricted Mode starts nothing and says why', async () => {
  const ext = fakeExtension();
  const options = { cliScript: join(ext.extensionPath, 'out', 'cli.js'), cwd: ext.extensionPath, runDir: ext.extensionPath };
  const refused = await runRescore({ ...options, workspaceTrusted: false });
  assert.equal(refused.type, 'failed');
  assert.match((refused as { message: string }).message, /Preview on Last Rollout is disabled in Restricted Mode/);
  await settle();
  assert.equal(ext.cliRan(), false, 'no rescore process was started');

  await runRescore({ ...options, workspaceTrusted: true }); // fails on the marker script's empty report, after running it
  assert.equal(ext.cliRan(), true);
});

const commands: [string, (state: HostState) => Promise<void>, RegExp][] = [
  ['Start Training', (state) => startTraining(state), /training is disabled in Restricted Mode.* \| Manage Workspace Trust$/],
  ['Resume Run (a run folder passed straight to the command)', (state) => resumeRun(state, '/some/run'), /training is disabled in Restricted Mode/],
  ['Preview on Last Rollout', (state) => previewReward(state, {} as never, undefined), /Preview on Last Rollout is disabled in Restricted Mode/],
];

for (const [name, run, message] of commands) {
  test(`${name}: refused in Restricted Mode with the reason, before reading the workspace or its config`, async () => {
    reset(false);
    const ext = fakeExtension();
    await run(hostState(ext.extensionPath));
    assert.equal(vscode.shown.length, 1, vscode.shown.join('\n'));
    assert.match(vscode.shown[0], message);
    assert.deepEqual(vscode.reached, [], 'nothing of the workspace was read');
    await settle();
    assert.equal(ext.trainerRan() || ext.cliRan(), false);
  });
}
