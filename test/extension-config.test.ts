import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../src/errors';
import { receiveHostCommand } from '../src/protocol/trainer-messages';
import { configFromSetting, orderConfigCandidates } from '../src/extension/config-discovery';
import { isModelConfigFile, newTrainingConfigText } from '../src/extension/new-config';
import { DEFAULT_SETTINGS } from '../src/extension/settings';
import { prepareStart } from '../src/extension/start-config';
import { parseTrainingConfig } from '../src/trainer/config';

const root = resolve(__dirname, '..');
const demoConfig = join(root, 'examples/demo/grpo.config.json');

test('the grpo.configFile setting is taken from the first workspace folder unless absolute', () => {
  assert.equal(configFromSetting('', ['/w']), undefined);
  assert.equal(configFromSetting('sub/grpo.config.json', ['/w', '/v']), resolve('/w', 'sub/grpo.config.json'));
  assert.equal(configFromSetting('/elsewhere/c.json', []), '/elsewhere/c.json');
  assert.equal(configFromSetting('c.json', []), undefined);
});

test('workspace configs are ordered shallowest first, copies in run folders and packages left out', () => {
  const found = ['/w/b/deep/grpo.config.json', '/w/.grpo/runs/1/grpo.config.json', '/w/z/grpo.config.json', '/w/grpo.config.json', '/w/node_modules/x/grpo.config.json', '/w/a/grpo.config.json'];
  assert.deepEqual(orderConfigCandidates(found, ['/w']), ['/w/grpo.config.json', '/w/a/grpo.config.json', '/w/z/grpo.config.json', '/w/b/deep/grpo.config.json']);
});

test('prepareStart sends the checked config with absolute paths, the reward time limit applied', () => {
  const plain = prepareStart(demoConfig, root, DEFAULT_SETTINGS);
  assert.equal(plain.start.workspaceRoot, root);
  assert.equal(plain.config.model_path, join(root, 'examples/demo/model'));
  assert.equal(plain.config.reward_timeout_ms, 30000);
  const limited = prepareStart(demoConfig, root, { ...DEFAULT_SETTINGS, rewardTimeoutMs: 1234 });
  assert.equal(limited.start.config?.reward_timeout_ms, 1234);
  assert.equal(receiveHostCommand({ type: 'start', ...limited.start }).ok, true);
  // What the trainer process parses from the start command is the same run.
  assert.deepEqual(parseTrainingConfig(JSON.parse(JSON.stringify(limited.start.config)), 'sent', { baseDir: '/nowhere' }), limited.config);
});

test('prepareStart reports a missing or broken config as a UserError naming the file and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-ext-'));
  try {
    assert.throws(() => prepareStart(join(dir, 'grpo.config.json'), dir, DEFAULT_SETTINGS), (e: unknown) => e instanceof UserError && /does not exist.*grpo\.configFile/.test(e.message));
    writeFileSync(join(dir, 'grpo.config.json'), '{ "model_path": ');
    assert.throws(() => prepareStart(join(dir, 'grpo.config.json'), dir, DEFAULT_SETTINGS), (e: unknown) => e instanceof UserError && e.message.startsWith(join(dir, 'grpo.config.json')));
    writeFileSync(join(dir, 'grpo.config.json'), JSON.stringify({ model_path: 'm', dataset_path: 'd.jsonl', rewards: [{ file: 'r.reward.ts' }], group_size: 1 }));
    assert.throws(() => prepareStart(join(dir, 'grpo.config.json'), dir, DEFAULT_SETTINGS), (e: unknown) => e instanceof UserError && /group_size/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a new config names the picked parts relative to its folder and parses as a training config', () => {
  const configFile = join(root, 'examples/demo/grpo.config.json');
  const text = newTrainingConfigText({
    configFile,
    modelDir: join(root, 'examples/demo/model'),
    dataset: join(root, 'examples/demo/train.jsonl'),
    rewardFiles: [join(root, 'examples/rewards/exact-answer.reward.ts')],
  });
  const json = JSON.parse(text);
  assert.deepEqual(json, { model_path: 'model', dataset_path: 'train.jsonl', rewards: [{ file: '../rewards/exact-answer.reward.ts' }] });
  const parsed = parseTrainingConfig(json, configFile, { baseDir: join(root, 'examples/demo') });
  assert.equal(parsed.dataset_path, join(root, 'examples/demo/train.jsonl'));
});

test('model folders are recognised by a config.json that names an architecture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-ext-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ model_path: 'x' }));
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.equal(isModelConfigFile(join(dir, 'model.json')), true);
    assert.equal(isModelConfigFile(join(dir, 'run.json')), false);
    assert.equal(isModelConfigFile(join(dir, 'broken.json')), false);
    assert.equal(isModelConfigFile(join(dir, 'absent.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
