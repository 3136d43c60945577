// The manifest parts of the Runs view and the first-run walkthrough: every command they link is
// one the extension contributes (or VS Code's own), every file they name exists, and the
// walkthrough link names this extension's walkthrough.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_VIEW_CONTEXT } from '../src/extension/runs-view/run-nodes';

const root = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const ours = new Set((contributes.commands as { command: string }[]).map((c) => c.command));
const BUILT_IN = new Set(['workbench.action.openWalkthrough', 'workbench.action.files.openFolder', 'workbench.action.quickOpen']);

/** Command ids of `[label](command:id?args)` links in markdown-ish text. */
function linkedCommands(text: string): string[] {
  return [...text.matchAll(/\(command:([\w.]+)(\?[^)]*)?\)/g)].map((m) => m[1]);
}

test('the Runs view sits in the GRPO Studio activity-bar container, with an icon file that is a monochrome SVG', () => {
  const [container] = contributes.viewsContainers.activitybar as { id: string; icon: string }[];
  assert.deepEqual(contributes.views[container.id].map((v: { id: string }) => v.id), ['grpo.runs']);
  const svg = readFileSync(join(root, container.icon), 'utf8');
  assert.match(svg, /^<svg [^>]*viewBox="0 0 24 24"/);
  const colours = [...svg.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(colours.length > 0 && colours.every((c) => c === 'currentColor' || c === 'none'), `theme-coloured only: ${colours.join(', ')}`);
});

test('the welcome text and the walkthrough link only contributed or built-in commands, and the walkthrough by its full id', () => {
  const walkthrough = contributes.walkthroughs[0] as { id: string; steps: { description: string; media: { markdown: string } }[] };
  const texts = [...contributes.viewsWelcome.map((w: { contents: string }) => w.contents), ...walkthrough.steps.map((s) => s.description)];
  const linked = texts.flatMap(linkedCommands);
  assert.ok(linked.includes('grpo.newTrainingConfig') && linked.includes('grpo.startTraining') && linked.includes('grpo.newRewardFunction'));
  for (const id of linked) assert.ok(ours.has(id) || BUILT_IN.has(id), `${id} is a command`);

  const fullId = encodeURIComponent(JSON.stringify([`${manifest.publisher}.${manifest.name}#${walkthrough.id}`, false]));
  for (const w of contributes.viewsWelcome as { view: string; contents: string }[]) {
    assert.equal(w.view, 'grpo.runs');
    assert.ok(w.contents.includes(`command:workbench.action.openWalkthrough?${fullId})`), 'the welcome opens this walkthrough');
  }
  for (const step of walkthrough.steps) assert.ok(existsSync(join(root, step.media.markdown)), step.media.markdown);
});

test('view menus name contributed commands, and item menus match the view items\' context values', () => {
  const menus = contributes.menus as Record<string, { command: string; when: string }[]>;
  const items = menus['view/item/context'];
  for (const m of [...menus['view/title'], ...items]) assert.ok(ours.has(m.command), m.command);
  const contexts = new Set(items.map((m) => /viewItem == (\w+)/.exec(m.when)?.[1]));
  assert.deepEqual([...contexts].sort(), [RUN_VIEW_CONTEXT.checkpoint, RUN_VIEW_CONTEXT.run].sort());
  assert.ok(items.some((m) => m.command === 'grpo.exportModel' && m.when.includes(RUN_VIEW_CONTEXT.checkpoint)));
  assert.ok(menus.commandPalette.some((m) => m.command === 'grpo.openRunDashboard' && m.when === 'false'), 'the item-only command is kept out of the palette');
});
