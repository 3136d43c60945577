// The trl engine in a real editor: the same workspace with "engine": "trl" and the
// grpo.pythonPath setting naming a Python with TRL (the virtual environment .ci/run makes).
// "GRPO: Start Training" runs TRL's GRPOTrainer; the dashboard, the rollout browser, a reward
// edit, Stop with a checkpoint and Resume Run from the Runs view work as on the tfjs engine.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { trlPython } from '../helpers/trl-python';
import type { CodeServer } from './code-server';
import { closeEditor, openEditor } from './editor';
import type { Dashboard } from './dashboard';
import { makeFixtureWorkspace, rewardFile } from './fixture-workspace';
import { Steps } from './step';
import { until } from './until';
import type { Workbench } from './workbench';

const root = join(__dirname, '..', '..');
const artifacts = join(root, 'test-artifacts', 'e2e-trl');
const { python, reason } = trlPython();

const alwaysOne = `// Every completion scores 1 (the end-to-end suite's edit).
export function exactAnswer(): number {
  return 1;
}
`;

describe('the trl engine in a real editor (code-server + Chromium)', { skip: python ? false : reason }, () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workbench: Workbench;
  let dashboard: Dashboard;
  const workspace = makeFixtureWorkspace('grpo-trl', { engine: 'trl' });
  const runsDir = join(workspace, '.grpo', 'runs');
  const theRun = () => join(runsDir, readdirSync(runsDir)[0]);
  const metrics = () => readFileSync(join(theRun(), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { iteration: number });
  const steps = new Steps(() => page, artifacts);
  const step = steps.gated(() => workbench.dismiss(), 'trl ');
  const status = () => workbench.statusBarItem('GRPO').first().innerText();

  before(async () => {
    ({ server, browser, page, workbench, dashboard } = await openEditor(artifacts, { 'grpo.pythonPath': python }));
  });

  after(() => closeEditor(browser, server));

  it(
    '1. Start Training runs TRL, and the dashboard shows its iterations and rollouts',
    { timeout: 240_000 },
    step('1. Start Training runs TRL, and the dashboard shows its iterations and rollouts', [], async () => {
      await workbench.openFolder(server!.url, workspace);
      await workbench.answerTrustDialog(true);
      await page!.locator('.explorer-folders-view', { hasText: 'grpo.config.json' }).waitFor();
      await workbench.runCommand('GRPO: Start Training');
      await until('the dashboard to show the run', () => dashboard.frame.locator('header h1').innerText(), (t) => t.startsWith('GRPO run '));
      await until('the rollout browser to show iteration 2 or later', () => dashboard.rolloutIteration(), (i) => (i ?? 0) >= 2, 180_000);
      assert.equal(await dashboard.members().count(), 32, 'rollout browser completions (8 groups of 4)');
      assert.ok((await dashboard.advantages()).every(Number.isFinite), 'advantages are numbers');
      const drawn = await dashboard.drawnShare(dashboard.chart('Reward'));
      assert.ok(drawn > 0.01, `the Reward chart is blank (${(drawn * 100).toFixed(2)}% of its pixels drawn)`);
      assert.match(readFileSync(join(theRun(), 'log.txt'), 'utf8'), /engine trl: TRL \d+\.\d+/);
    }),
  );

  it(
    '2. an edited reward file is used by TRL from the next iteration',
    { timeout: 240_000 },
    step('2. an edited reward file is used by TRL from the next iteration', ['1'], async () => {
      await workbench.openFile(rewardFile.split('/'));
      await workbench.replaceEditorText(alwaysOne);
      await workbench.runCommand('GRPO: Open Dashboard');
      await until('a rollout where every reward is 1', () => dashboard.rewards(), (r) => r.length === 32 && r.every((x) => x === 1));
    }),
  );

  let stoppedAt = 0;
  it(
    '3. Stop ends the TRL run after its iteration with a TRL checkpoint',
    { timeout: 240_000 },
    step('3. Stop ends the TRL run after its iteration with a TRL checkpoint', ['1'], async () => {
      await workbench.runCommand('GRPO: Stop');
      await workbench.statusBarItem('GRPO').first().waitFor({ state: 'detached', timeout: 120_000 });
      stoppedAt = metrics().at(-1)!.iteration;
      const checkpoint = join(theRun(), 'checkpoints', `checkpoint-${stoppedAt}`);
      assert.ok(existsSync(join(checkpoint, 'trainer_state.json')), `${checkpoint} holds TRL's trainer state`);
    }),
  );

  it(
    '4. Resume Run from the Runs view continues the TRL run from its checkpoint',
    { timeout: 240_000 },
    step('4. Resume Run from the Runs view continues the TRL run from its checkpoint', ['3'], async () => {
      await workbench.runCommand('GRPO Studio: Focus on Runs View');
      const row = page!.locator('.part.sidebar .monaco-list-row', { hasText: /stopped|iter \d+/ }).first();
      await row.click({ button: 'right' });
      // The menu takes the highlighted entry on Enter (a click on it is not always seen).
      await page!.locator('.context-view .action-label', { hasText: 'Resume Run' }).hover();
      await page!.keyboard.press('Enter');
      await until('training to go on', status, (t) => /GRPO \d+\//.test(t), 120_000);
      await until(`iterations after ${stoppedAt}`, async () => metrics().at(-1)!.iteration, (i) => i >= stoppedAt + 2, 180_000);
      const iterations = metrics().map((m) => m.iteration);
      assert.deepEqual(iterations, iterations.map((_, i) => i + 1), 'one metrics line per iteration, none repeated or lost');
      await workbench.runCommand('GRPO: Stop');
      await workbench.statusBarItem('GRPO').first().waitFor({ state: 'detached', timeout: 120_000 });
    }),
  );
});
