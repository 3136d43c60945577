// Where a reward file declares its exported functions, by name as the runner names them (every
// export is a reward, a default export goes by the file's name). A line scan, not a parse: the
// extension bundle stays free of the TypeScript compiler, and a CodeLens only needs the line.
import { defaultRewardName } from '../../rewards/default-name';

export interface RewardDeclaration {
  name: string;
  /** 0-based line of the `export`. */
  line: number;
}

const IDENT = '[A-Za-z_$][\\w$]*';
const exportedFunction = new RegExp(`^export\\s+(?:async\\s+)?function\\s*\\*?\\s*(${IDENT})`);
const exportedBinding = new RegExp(`^export\\s+(?:const|let|var)\\s+(${IDENT})`);
const exportedDefault = /^export\s+default\b/;
const exportList = /^export\s*\{([^}]*)\}/;

/** Exported names of `text` (the file `fileName`) and their lines, in file order. */
export function rewardDeclarations(text: string, fileName: string): RewardDeclaration[] {
  const found: RewardDeclaration[] = [];
  text.split('\n').forEach((raw, line) => {
    const s = raw.trimStart();
    if (!s.startsWith('export')) return;
    const named = exportedFunction.exec(s) ?? exportedBinding.exec(s);
    if (named) return void found.push({ name: named[1], line });
    if (exportedDefault.test(s)) return void found.push({ name: defaultRewardName(fileName), line });
    const list = exportList.exec(s);
    if (!list) return;
    for (const item of list[1].split(',')) {
      const parts = item.trim().split(/\s+as\s+/);
      const exported = parts[parts.length - 1]?.trim();
      if (!exported || exported.startsWith('type ')) continue;
      found.push({ name: exported === 'default' ? defaultRewardName(fileName) : exported, line });
    }
  });
  return found;
}
