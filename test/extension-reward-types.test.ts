// The editor's types for reward files: the folder GRPO Studio sets up type-checks a reward
// written against `grpo-studio/reward` with the real TypeScript compiler, and catches a misuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureRewardTypes, REWARD_TYPES_PATH } from '../src/extension/reward-types';
import { rewardFileText } from '../src/extension/reward-file';

const root = resolve(__dirname, '..');
const declarations = readFileSync(join(root, 'types', 'reward.d.ts'), 'utf8');
const tsc = (dir: string) => spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });

test('a reward folder set up by GRPO Studio type-checks its rewards against grpo-studio/reward', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-reward-types-'));
  writeFileSync(join(dir, 'answer.reward.ts'), rewardFileText('answer'));
  const first = await ensureRewardTypes(dir, declarations);
  assert.deepEqual(first.written.sort(), [join(dir, REWARD_TYPES_PATH), join(dir, 'tsconfig.json')].sort());
  const ok = tsc(dir);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);

  // A misuse is caught where the user types it: RewardSample has no `answer`.
  writeFileSync(join(dir, 'wrong.reward.ts'), "import type { RewardSample } from 'grpo-studio/reward';\nexport const wrong = (s: RewardSample) => s.answer.length;\n");
  const wrong = tsc(dir);
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stdout, /wrong\.reward\.ts\(2,\d+\): error TS2339: Property 'answer' does not exist/);

  // Again: nothing to write. A newer version's declarations replace ours; a user's own tsconfig stays.
  assert.deepEqual((await ensureRewardTypes(dir, declarations)).written, []);
  assert.deepEqual((await ensureRewardTypes(dir, declarations + '\n// newer\n')).written, [join(dir, REWARD_TYPES_PATH)]);
  const own = mkdtempSync(join(tmpdir(), 'grpo-reward-types-own-'));
  writeFileSync(join(own, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
  const result = await ensureRewardTypes(own, declarations);
  assert.equal(result.ownTsconfig, join(own, 'tsconfig.json'));
  assert.equal(readFileSync(join(own, 'tsconfig.json'), 'utf8'), '{ "compilerOptions": { "strict": true } }\n');
});
