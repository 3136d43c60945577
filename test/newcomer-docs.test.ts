// The README and the docs it leads to, checked against the code, line by line where a line can
// be checked: every repository path they name exists, the command table is the CLI's, every
// flag it shows is one its command takes, the example config is valid, and stated defaults and
// counts are the ones the code and the demo's config have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REWARD_TIMEOUT_MS } from '../src/rewards/timeout';
import { DEFAULT_TRAINING_CONFIG, parseTrainingConfig } from '../src/trainer/config';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const DOCS = ['README.md', 'docs/DESIGN.md', 'docs/ENGINE.md', 'examples/demo/README.md', 'src/rewards/README.md'];

function help(command: string): string {
  const r = spawnSync(process.execPath, [join(root, 'out', 'cli.js'), command, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the design notes are in the repository and the README points there, not to a shared copy', () => {
  for (const f of ['docs/DESIGN.md', 'docs/ENGINE.md']) assert.ok(existsSync(join(root, f)), f);
  assert.doesNotMatch(read('README.md'), /shared DESIGN\.md/);
  assert.match(read('README.md'), /`docs\/DESIGN\.md`/);
});

test('every repository path the docs name, in a link or in code, exists', () => {
  const top = /^(src|examples|bench|test|docs|media|scripts|types|webview|bin|\.ci)\//;
  for (const doc of DOCS) {
    const text = read(doc);
    const named = [...text.matchAll(/`([^`\s]+)`/g), ...text.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]);
    for (const path of named.filter((p) => top.test(p) && !/[<>*|]/.test(p))) {
      assert.ok(existsSync(join(root, path)), `${doc} names ${path}, which does not exist`);
    }
  }
});

test("the README's command table is the CLI's, and shows only flags each command takes", () => {
  const usage = spawnSync(process.execPath, [join(root, 'out', 'cli.js'), '--help'], { encoding: 'utf8' }).stdout;
  const commands = [...usage.matchAll(/^ {2}([\w-]+) {2,}/gm)].map((m) => m[1]).sort();
  const rows = [...read('README.md').matchAll(/^\| `grpo ([\w-]+)(.*)$/gm)];
  assert.deepEqual([...new Set(rows.map((r) => r[1]))].sort(), commands, 'one row per command');
  const spelling = (f: string) => f.replace(/-/g, '_');
  for (const [, command, rest] of rows) {
    const known = (help(command).match(/--[a-z][\w-]*/g) ?? []).map(spelling);
    for (const flag of rest.match(/--[a-z][\w-]*/g) ?? []) assert.ok(known.includes(spelling(flag)), `grpo ${command} takes no ${flag}`);
  }
  for (const command of ['train', 'sft', 'eval', 'generate', 'score', 'bench']) assert.match(help(command), /--backend/, `grpo ${command} takes --backend, as the README says`);
});

test("the README's example grpo.config.json is a valid config", () => {
  const json = /```json\n([\s\S]*?)```/.exec(read('README.md'))?.[1];
  assert.ok(json, 'the README shows a config');
  assert.doesNotThrow(() => parseTrainingConfig(JSON.parse(json), 'README.md'));
});

test('stated defaults are the defaults: the reward time limit', () => {
  const seconds = DEFAULT_REWARD_TIMEOUT_MS / 1000;
  assert.equal(DEFAULT_TRAINING_CONFIG.reward_timeout_ms, DEFAULT_REWARD_TIMEOUT_MS);
  for (const doc of ['README.md', 'src/rewards/README.md']) {
    const stated = [...read(doc).matchAll(/(\d+) s by\s+default/g)].map((m) => Number(m[1]));
    assert.ok(stated.length > 0, `${doc} states the reward time limit`);
    for (const s of stated) assert.equal(s, seconds, `${doc} says ${s} s; the default is ${seconds} s`);
  }
});

test("the demo README's optimizer steps per iteration are its config's", () => {
  const config = JSON.parse(read('examples/demo/grpo.config.json'));
  const completions = config.rollout_batch_size * config.group_size;
  const steps = (completions / config.minibatch_size) * (config.ppo_epochs ?? DEFAULT_TRAINING_CONFIG.ppo_epochs);
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
  const m = /(\w+) AdamW steps? of (\d+) completions each per iteration/.exec(read('examples/demo/README.md'));
  assert.ok(m, 'the demo README states its optimizer steps');
  assert.equal(words.indexOf(m[1]), steps, `it says ${m[1]} steps; the config makes ${steps}`);
  assert.equal(Number(m[2]), config.minibatch_size);
  assert.match(read('examples/demo/README.md'), new RegExp(`${config.rollout_batch_size} prompts x ${config.group_size} samples per iteration`));
});
