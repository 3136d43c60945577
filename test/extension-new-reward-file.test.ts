// New Reward Function: the name check, the starter file (through the real reward compiler, the
// real runner and a strict type-check against types/reward.d.ts), where it is written, and the
// minimal config edit that lists it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { UserError } from '../src/errors';
import {
  rewardFileName, rewardFileText, rewardFolderFor, rewardFunctionName, rewardListInsertion, rewardNameProblem,
} from '../src/extension/reward-file';
import { compileRewardFile } from '../src/rewards/compile';
import { RewardRunner } from '../src/rewards/runner';

const REWARD_TYPES = resolve(__dirname, '..', 'types', 'reward.d.ts');

test('reward names: identifier-like, not keywords; dashes and underscores make a camelCase function name', () => {
  for (const ok of ['answerFormat', 'answer-format', 'answer_format', 'r2']) assert.equal(rewardNameProblem(ok), undefined, ok);
  for (const bad of ['', '2fast', 'has space', 'dots.in.it', '../escape', 'ünï', 'delete', 'class']) assert.ok(rewardNameProblem(bad), bad);
  assert.equal(rewardFunctionName('answer-format'), 'answerFormat');
  assert.equal(rewardFunctionName('answer__format_2'), 'answerFormat2');
  assert.equal(rewardFunctionName('plain'), 'plain');
  assert.equal(rewardFileName('answer-format'), 'answer-format.reward.ts');
});

test('the starter compiles with the reward compiler and scores samples in the real runner', async () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-new-reward-'));
  const file = join(root, 'rewards', rewardFileName('ends-cleanly'));
  mkdirSync(join(root, 'rewards'));
  writeFileSync(file, rewardFileText('ends-cleanly'));

  const compiled = await compileRewardFile(root, file, join(root, '.out'));
  assert.ok(compiled.ok, compiled.ok ? '' : JSON.stringify(compiled.problem));

  const runner = await RewardRunner.start([{ file: 'rewards/ends-cleanly.reward.ts' }], { workspaceRoot: root, timeoutMs: 5000 });
  try {
    const sample = (completion: string) => ({ prompt: 'Q', completion, completionIds: [1], row: {} });
    const scores = await runner.score([sample('It is 4.'), sample('it is 4'), sample('  ')], 0);
    const fn = scores.functions.find((f) => f.name === 'endsCleanly');
    assert.ok(fn, 'the exported function is named from the reward name');
    assert.deepEqual(fn.errors, []);
    assert.deepEqual([...fn.values], [1, 0, 0]);
    assert.deepEqual(scores.metrics['endsCleanly/chars'], [8, 7]);
  } finally {
    await runner.close();
  }
});

test('the starter type-checks strictly against the published reward types', () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-new-reward-types-'));
  const file = join(root, rewardFileName('answer_format'));
  writeFileSync(file, rewardFileText('answer_format'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    noUnusedLocals: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts'],
    types: [],
    baseUrl: root,
    paths: { 'grpo-studio/reward': [REWARD_TYPES] },
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, []);
});

test('a new reward goes beside the config\'s first reward file, else into rewards/ by the config or the workspace', () => {
  const ws = resolve('/ws');
  const config = (rewards: unknown) => ({ file: join(ws, 'train', 'grpo.config.json'), text: JSON.stringify({ rewards }) });
  assert.equal(rewardFolderFor(config([{ file: 'scoring/a.reward.ts' }, { file: 'x/b.reward.ts' }]), ws), join(ws, 'train', 'scoring'));
  assert.equal(rewardFolderFor(config([{ file: '../shared/a.reward.ts' }]), ws), join(ws, 'shared'));
  assert.equal(rewardFolderFor(config([]), ws), join(ws, 'train', 'rewards'));
  assert.equal(rewardFolderFor({ file: join(ws, 'grpo.config.json'), text: '{ not json' }, ws), join(ws, 'rewards'));
  assert.equal(rewardFolderFor(undefined, ws), join(ws, 'rewards'));
});

const CONFIG = resolve('/ws/grpo.config.json');
const NEW_REWARD = resolve('/ws/rewards/new.reward.ts');

function applied(text: string): string {
  const edit = rewardListInsertion(text, CONFIG, NEW_REWARD);
  assert.ok(edit, 'an edit is made');
  return text.slice(0, edit.offset) + edit.text + text.slice(edit.offset);
}

test('listing a reward adds one entry at the end of "rewards" and leaves every other character as it was', () => {
  const pretty = '{\n  "model_path": "m",\n  "rewards": [\n    { "file": "rewards/a.reward.ts", "weight": 2 },\n    {\n      "file": "rewards/b.reward.ts"\n    }\n  ],\n  "seed": 1\n}\n';
  assert.equal(
    applied(pretty),
    '{\n  "model_path": "m",\n  "rewards": [\n    { "file": "rewards/a.reward.ts", "weight": 2 },\n    {\n      "file": "rewards/b.reward.ts"\n    },\n    { "file": "rewards/new.reward.ts" }\n  ],\n  "seed": 1\n}\n',
  );
  assert.equal(applied('{"rewards":[{"file":"a.reward.ts"}],"stop":["]"]}'), '{"rewards":[{"file":"a.reward.ts"}, { "file": "rewards/new.reward.ts" }],"stop":["]"]}');
  assert.equal(applied('{ "rewards": [ ] }'), '{ "rewards": [{ "file": "rewards/new.reward.ts" } ] }');
});

test('a key named "rewards" inside another object, or a string "rewards", is not the list', () => {
  const text = '{\n  "note": "rewards",\n  "live": { "rewards": [] },\n  "rewards": [\n    { "file": "a.reward.ts" }\n  ]\n}';
  const result = JSON.parse(applied(text)) as { live: { rewards: unknown[] }; rewards: { file: string }[] };
  assert.deepEqual(result.live.rewards, []);
  assert.deepEqual(result.rewards.map((r) => r.file), ['a.reward.ts', 'rewards/new.reward.ts']);
});

test('a config without "rewards" gets the list; one that already lists the file is left alone', () => {
  assert.equal(applied('{\n  "model_path": "m"\n}\n'), '{\n  "model_path": "m",\n  "rewards": [{ "file": "rewards/new.reward.ts" }]\n}\n');
  assert.equal(applied('{}'), '{"rewards": [{ "file": "rewards/new.reward.ts" }]}');
  assert.equal(rewardListInsertion('{"rewards": [{"file": "./rewards/new.reward.ts"}]}', CONFIG, NEW_REWARD), undefined);
});

test('a config that is not a JSON object, or whose rewards is not a list, is reported, not edited', () => {
  for (const text of ['{ "rewards": [', '[1]', '{"rewards": {"file": "a.reward.ts"}}']) {
    assert.throws(() => rewardListInsertion(text, CONFIG, NEW_REWARD), (e: Error) => e instanceof UserError && e.message.includes(CONFIG), text);
  }
});
