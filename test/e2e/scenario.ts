// The end-to-end scenario of issue 5: the packaged extension in code-server, driven through
// headless Chromium as a user would, one named step at a time. Run by `npm run test:e2e`
// (which builds and packages first); each step passes or fails on its own, and a step whose
// prerequisite failed is skipped. Screenshots go to test-artifacts/e2e/.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CodeServer } from './code-server';
import { closeEditor, openEditor } from './editor';
import type { Dashboard } from './dashboard';
import { makeFixtureWorkspace, rewardFile } from './fixture-workspace';
import { Steps } from './step';
import { until } from './until';
import type { Workbench } from './workbench';

const root = join(__dirname, '..', '..');
const artifacts = join(root, 'test-artifacts', 'e2e');
const rewardPath = rewardFile.split('/');
const rewardFileName = rewardPath[rewardPath.length - 1];

/** Metrics lines of the workspace's one run, as the trainer wrote them. */
function runMetrics(workspace: string): Array<{ iteration: number; reward_versions?: Record<string, string> }> {
  const runs = join(workspace, '.grpo', 'runs');
  const [run] = readdirSync(runs);
  return readFileSync(join(runs, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const alwaysOne = `// Every completion scores 1 (the end-to-end suite's edit).
export function exactAnswer(): number {
  return 1;
}
`;

const alwaysZero = `// Every completion scores 0 (the end-to-end suite's edit, previewed but not trained with).
export function exactAnswer(): number {
  return 0;
}
`;

const syntaxError = `// Does not compile (the end-to-end suite's edit).
export function exactAnswer(): number {
  return 1 +;
}
`;

describe('GRPO Studio in a real editor (code-server + Chromium)', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workbench: Workbench;
  let dashboard: Dashboard;
  const workspace = makeFixtureWorkspace('grpo-demo');
  const steps = new Steps(() => page, artifacts);
  const step = steps.gated(() => workbench.dismiss());

  const dashboardRewardsAfterOpen = async (): Promise<number[]> => {
    await workbench.runCommand('GRPO: Open Dashboard');
    return until('the rollout browser rewards', () => dashboard.rewards(), (r) => r.length === 32, 30_000);
  };

  before(async () => {
    rmSync(artifacts, { recursive: true, force: true });
    ({ server, browser, page, workbench, dashboard } = await openEditor(artifacts));
  });

  after(() => closeEditor(browser, server));

  it(
    '1. open the fixture workspace and trust it',
    { timeout: 180_000 },
    step('1. open the fixture workspace and trust it', [], async () => {
      await workbench.openFolder(server!.url, workspace);
      await workbench.answerTrustDialog(true);
      await page!.locator('.explorer-folders-view', { hasText: 'grpo.config.json' }).waitFor();
    }),
  );

  it(
    '2. GRPO: Start Training from the command palette',
    { timeout: 180_000 },
    step('2. GRPO: Start Training from the command palette', ['1'], async () => {
      await workbench.runCommand('GRPO: Start Training');
      await until('the dashboard to show the run', () => dashboard.frame.locator('header h1').innerText(), (t) => t.startsWith('GRPO run '));
      await until('the status bar to count iterations', () => workbench.statusBarItem('GRPO').first().innerText(), (t) => /GRPO \d+\//.test(t));
    }),
  );

  it(
    '3. the dashboard shows iterations, the reward chart and the rollout browser',
    { timeout: 180_000 },
    step('3. the dashboard shows iterations, the reward chart and the rollout browser', ['2'], async () => {
      await until('the rollout browser to show iteration 2 or later', () => dashboard.rolloutIteration(), (i) => (i ?? 0) >= 2);
      const drawn = await dashboard.drawnShare(dashboard.chart('Reward'));
      assert.ok(drawn > 0.01, `the Reward chart is blank (${(drawn * 100).toFixed(2)}% of its pixels drawn)`);
      assert.equal(await dashboard.groups().count(), 8, 'rollout browser groups (rollout_batch_size 8)');
      assert.equal(await dashboard.members().count(), 32, 'rollout browser completions (8 groups of 4)');
      const advantages = await dashboard.advantages();
      assert.equal(advantages.length, 32, 'an advantage for each completion');
      assert.ok(advantages.every(Number.isFinite), `advantages are numbers: ${advantages.join(', ')}`);
      assert.ok((await dashboard.rewards()).every(Number.isFinite), 'rewards are numbers');
      await until('the status line to say iteration 2 or later is done', () => dashboard.statusIteration(), (i) => (i ?? 0) >= 2, 20_000);
    }),
  );

  it(
    '4. a completion opens as an inline document with token hovers',
    { timeout: 180_000 },
    step('4. a completion opens as an inline document with token hovers', ['2'], async () => {
      // Training goes on meanwhile: with the pointer over the groups, the rollout browser holds
      // the iteration on show, so the completion read is the one opened.
      const member = dashboard.members().first();
      // The pointer moves in as a user's does (Playwright's hover would wait for the list to stop
      // changing, which only the pointer being there makes it do).
      // Redrawn as iterations arrive, the element may be replaced mid-scroll: try again then.
      const box = await until(
        'a completion scrolled on screen',
        async () => {
          await member.scrollIntoViewIfNeeded({ timeout: 2000 });
          return member.boundingBox();
        },
        (b) => b !== null,
        30_000,
      );
      await page!.mouse.move(box!.x + box!.width / 2, box!.y + Math.min(8, box!.height / 2));
      // The next iteration arrives within a second and waits while the pointer is there.
      await until('the rollout browser to hold its iteration under the pointer', () => dashboard.frame.locator('.rollouts .rollout-note').innerText(), (t) => t.includes('held while the pointer is over it'), 30_000);
      const shown = (await member.locator('.completion').innerText()).replace(/∅/g, '').trim(); // ∅: a token that decodes to nothing
      await member.locator('button.open-completion').click();
      await until(`an editor with the completion ${JSON.stringify(shown)}`, () => workbench.editorText(), (t) => t.includes(shown), 30_000);
      const token = workbench.activeEditor().locator('.view-line', { hasText: shown }).locator('span span').first();
      await token.hover();
      await page!.locator('.monaco-hover:visible', { hasText: 'log-prob' }).waitFor({ timeout: 15_000 });
      await page!.keyboard.press('Escape');
      await workbench.closeActiveEditor();
    }),
  );

  it(
    '5. an edited reward file is used from the next iteration',
    { timeout: 240_000 },
    step('5. an edited reward file is used from the next iteration', ['2'], async () => {
      const before = runMetrics(workspace).at(-1)!;
      await workbench.openFile(rewardPath);
      await workbench.replaceEditorText(alwaysOne);
      await workbench.runCommand('GRPO: Open Dashboard');
      const rewards = await until('a rollout where every reward is 1', () => dashboard.rewards(), (r) => r.length === 32 && r.every((x) => x === 1));
      assert.equal(rewards.length, 32);
      const changed = runMetrics(workspace).find((m) => m.iteration > before.iteration && JSON.stringify(m.reward_versions) !== JSON.stringify(before.reward_versions));
      assert.ok(changed, `no iteration after ${before.iteration} records a new reward version in metrics.jsonl`);
      const drawn = await dashboard.drawnShare(dashboard.chart('Reward'));
      assert.ok(drawn > 0.01, 'the Reward chart is still drawn');
    }),
  );

  it(
    '5a. a reward that never varies pauses training with a notice that says why; Resume goes on',
    { timeout: 240_000 },
    step('5a. a reward that never varies pauses training with a notice that says why; Resume goes on', ['5'], async () => {
      // Step 5's reward gives every completion 1: no group varies, so after 5 such iterations the
      // run pauses itself. The toast may have come and gone (each step begins with Escape), so
      // the notice is read in the notification centre.
      const status = () => workbench.statusBarItem('GRPO').first().innerText();
      await until('training to pause by itself', status, (t) => t.includes('paused'), 90_000);
      await workbench.runCommand('Notifications: Show Notifications');
      const notice = page!.locator('.notifications-center .notification-list-item', { hasText: 'training is paused' }).first();
      await notice.waitFor({ timeout: 30_000 });
      assert.match(await notice.innerText(), /no learning signal in iterations \d+-\d+: within every group all completions got the same reward/);
      await workbench.runCommand('Notifications: Clear All Notifications');
      await workbench.runCommand('GRPO: Resume');
      await until('training to go on', status, (t) => !t.includes('paused'), 60_000);
    }),
  );

  it(
    '5b. Preview on Last Rollout shows what an edit would change, before training uses it',
    { timeout: 240_000 },
    step('5b. Preview on Last Rollout shows what an edit would change, before training uses it', ['5'], async () => {
      // Paused, so that the last rollout is the one scored with step 5's reward (every reward 1).
      await workbench.runCommand('GRPO: Pause');
      try {
        await until('training to pause', () => workbench.statusBarItem('GRPO').first().innerText(), (t) => t.includes('paused'), 60_000);
        await workbench.openFile(rewardPath);
        await workbench.replaceEditorText(alwaysZero);
        await workbench.runCommand('GRPO: Preview on Last Rollout');
        const previewGroup = page!.locator('.editor-group-container', { has: page!.locator('.tab.active', { hasText: 'Reward Preview.txt' }) });
        const previewText = async () => (await previewGroup.locator('.monaco-editor .view-lines').first().innerText({ timeout: 5000 })).replace(/\u00a0/g, ' ');
        const preview = await until('the preview document', previewText, (t) => /mean reward\s+1\.0000\s+0\.0000/.test(t), 60_000);
        assert.match(preview, /A preview changes nothing in the run/);
        const rewards = await dashboardRewardsAfterOpen();
        assert.ok(rewards.every((x) => x === 1), `the paused run still shows the rewards it trained with: ${rewards.join(', ')}`);
      } finally {
        await workbench.dismiss();
        await workbench.openFile(rewardPath);
        await workbench.replaceEditorText(alwaysOne); // step 6 expects training to keep this one
        await workbench.runCommand('GRPO: Resume');
      }
    }),
  );

  it(
    '6. a reward file that does not compile shows in Problems while training goes on',
    { timeout: 240_000 },
    step('6. a reward file that does not compile shows in Problems while training goes on', ['2'], async () => {
      await workbench.openFile(rewardPath);
      await workbench.replaceEditorText(syntaxError);
      const problems = await workbench.problems();
      await until(
        `an error for ${rewardFileName} in the Problems panel`,
        () => problems.allInnerTexts(),
        (rows) => rows.some((r) => r.includes(rewardFileName)) && rows.length >= 2,
        60_000,
      );
      await page!.locator('.markers-panel .codicon-error').first().waitFor({ timeout: 10_000 });
      await workbench.runCommand('GRPO: Open Dashboard');
      const at = await until('the rollout browser to show an iteration', () => dashboard.rolloutIteration(), (i) => i !== undefined);
      await until(`training to go past iteration ${at! + 1}`, () => dashboard.rolloutIteration(), (i) => (i ?? 0) >= at! + 2, 60_000);
      const rewards = await dashboard.rewards();
      assert.ok(rewards.every((x) => x === 1), `training keeps the last good reward (all 1): ${rewards.join(', ')}`);
    }),
  );

  it(
    '6b. the Runs view and the reward CodeLens show the live run',
    { timeout: 180_000 },
    step('6b. the Runs view and the reward CodeLens show the live run', ['2'], async () => {
      await workbench.runCommand('GRPO Studio: Focus on Runs View');
      const run = page!.locator('.part.sidebar .monaco-list-row', { hasText: /training · iter \d+\/100000/ });
      await run.first().waitFor({ timeout: 30_000 });
      await workbench.openFile(rewardPath);
      const lens = workbench.activeEditor().locator('.contentWidgets .codelens-decoration, .codelens-decoration').first();
      await until('the reward CodeLens', () => lens.innerText(), (t) => /reward exactAnswer: mean \d\.\d{3} ± \d\.\d{3} · \d+ errors? \(iter \d+\)/.test(t), 60_000);
      assert.match(await lens.innerText(), /best sample/);
    }),
  );

  it(
    '7. an untrusted workspace refuses training and still shows past runs',
    { timeout: 240_000 },
    step('7. an untrusted workspace refuses training and still shows past runs', ['2'], async () => {
      await workbench.runCommand('GRPO: Stop');
      await workbench.statusBarItem('GRPO').first().waitFor({ state: 'detached', timeout: 90_000 });
      const untrusted = makeFixtureWorkspace('grpo-untrusted');
      cpSync(join(workspace, '.grpo'), join(untrusted, '.grpo'), { recursive: true });
      await workbench.openFolder(server!.url, untrusted);
      await workbench.answerTrustDialog(false);
      await workbench.runCommand('GRPO: Start Training');
      const refusal = await workbench.notification('Restricted Mode');
      assert.match(refusal, /Trust this workspace/, 'the refusal says how to train');
      assert.equal(existsSync(join(untrusted, '.grpo', 'runs')) && readdirSync(join(untrusted, '.grpo', 'runs')).length, 1, 'no new run started');
      await workbench.runCommand('GRPO: Open Run');
      await workbench.pickFirst();
      await until('the past run read-only', () => dashboard.status(), (s) => s.includes('past run, read-only'));
      await until('the past run rollouts', () => dashboard.members().count(), (n) => n === 32, 30_000);
    }),
  );

  it(
    '8. after a window reload the dashboard rebuilds itself from the run folder',
    { timeout: 180_000 },
    step('8. after a window reload the dashboard rebuilds itself from the run folder', ['7'], async () => {
      const before = await dashboard.frame.locator('header h1').innerText();
      await workbench.runCommand('Developer: Reload Window');
      await until('the restored dashboard', () => dashboard.frame.locator('header h1').innerText(), (t) => t === before, 120_000);
      await until('the restored run rollouts', () => dashboard.members().count(), (n) => n === 32, 30_000);
      assert.match(await dashboard.status(), /past run, read-only/);
    }),
  );
});
