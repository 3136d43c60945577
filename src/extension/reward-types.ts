// Types of `grpo-studio/reward` for the editor. Reward files import their types from it, but a
// user's workspace has no such package: without help the editor underlines the import and
// knows nothing of RewardSample. So the reward folder gets a copy of the declarations and a
// tsconfig.json that maps the module name to it. GRPO Studio compiles reward files itself
// (esbuild); this tsconfig is only for the editor's checking and completion.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the declarations go, inside the reward folder. */
export const REWARD_TYPES_PATH = '.grpo-studio/reward.d.ts';

/** The tsconfig.json written next to reward files that have none. */
export function rewardTsconfigText(): string {
  const config = {
    '//': 'Written by GRPO Studio for the editor: it maps grpo-studio/reward to its types. GRPO Studio compiles reward files itself.',
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      paths: { 'grpo-studio/reward': [`./${REWARD_TYPES_PATH}`] },
    },
    include: ['**/*.ts'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export interface RewardTypesResult {
  /** Files written, absolute. */
  written: string[];
  /** A tsconfig.json of the user's own was there and left alone: it must map the module itself. */
  ownTsconfig?: string;
}

/**
 * Makes `grpo-studio/reward` resolve in the editor for reward files in `rewardDir`: writes the
 * declarations (refreshed when this version's differ) and, where the folder has no
 * tsconfig.json, one that maps the module to them. A user's own tsconfig.json is never changed.
 */
export async function ensureRewardTypes(rewardDir: string, declarations: string): Promise<RewardTypesResult> {
  const written: string[] = [];
  const typesFile = join(rewardDir, REWARD_TYPES_PATH);
  const current = existsSync(typesFile) ? await readFile(typesFile, 'utf8') : undefined;
  if (current !== declarations) {
    await mkdir(join(rewardDir, '.grpo-studio'), { recursive: true });
    await writeFile(typesFile, declarations);
    written.push(typesFile);
  }
  const tsconfig = join(rewardDir, 'tsconfig.json');
  if (existsSync(tsconfig)) {
    return (await readFile(tsconfig, 'utf8')).includes('grpo-studio/reward') ? { written } : { written, ownTsconfig: tsconfig };
  }
  await writeFile(tsconfig, rewardTsconfigText(), { flag: 'wx' });
  written.push(tsconfig);
  return { written };
}
