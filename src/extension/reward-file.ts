// New Reward Function: the name check, the starter file and the config edit that lists it,
// without `vscode` so they are tested as they are. The starter compiles with the reward
// compiler (src/rewards/compile.ts) and type-checks against types/reward.d.ts.
import { dirname, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors';

export const REWARD_FILE_SUFFIX = '.reward.ts';

// Words that cannot name a function (the exported reward), so cannot be a reward's name.
const RESERVED = new Set(
  ('await break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'implements import in instanceof interface let new null package private protected public return static super switch this throw ' +
    'true try typeof var void while with yield').split(' '),
);

/** Why `name` cannot name a reward file and its function, or undefined when it can. */
export function rewardNameProblem(name: string): string | undefined {
  if (name === '') return 'Type a name, e.g. answerFormat or answer-format';
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) return 'Use letters, digits, - and _, starting with a letter (it names the file and its function)';
  if (RESERVED.has(rewardFunctionName(name))) return `"${name}" is a JavaScript keyword; choose another name`;
  return undefined;
}

/** answer-format and answer_format both name the function answerFormat. */
export function rewardFunctionName(name: string): string {
  return name.replace(/[-_]+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/[-_]+$/, '');
}

export function rewardFileName(name: string): string {
  return `${name}${REWARD_FILE_SUFFIX}`;
}

/** A starter reward: a working rule the user replaces, with the API's parts in view. */
export function rewardFileText(name: string): string {
  const fn = rewardFunctionName(name);
  return `// ${fn}: scores one completion; GRPO ranks each completion against the others of its group,
// so only the differences between them matter. Save while training runs: the next iteration
// scores with the new version. Return null where the reward does not apply to a sample.
// "GRPO: Reward API Reference" lists everything a reward receives; ctx.log lines go to the
// run folder's reward-logs/.
import type { RewardContext, RewardSample } from 'grpo-studio/reward';

// The dataset row's columns besides "prompt", e.g. { answer: string }.
type Row = Record<string, unknown>;

export function ${fn}(sample: RewardSample<Row>, ctx: RewardContext): number | null {
  const text = sample.completion.trim();
  if (text === '') return 0;
  ctx.metric('chars', text.length); // charted per iteration as ${fn}/chars
  // Replace with what a good answer is, e.g. compare with sample.row.answer.
  return /[.!?]$/.test(text) ? 1 : 0;
}
`;
}

/**
 * Where a new reward file goes: beside the config's first reward file, else in `rewards/` next
 * to the config (or in the workspace folder when there is no config).
 */
export function rewardFolderFor(config: { file: string; text: string } | undefined, workspaceFolder: string): string {
  if (!config) return resolve(workspaceFolder, 'rewards');
  const configDir = dirname(resolve(config.file));
  const first = parseObject(config.text)?.rewards;
  const file = Array.isArray(first) ? (first[0] as { file?: unknown } | undefined)?.file : undefined;
  return typeof file === 'string' ? dirname(resolve(configDir, file)) : resolve(configDir, 'rewards');
}

/** A text insertion at `offset` (into the text it was computed from). */
export interface TextInsertion {
  offset: number;
  text: string;
}

/**
 * The minimal edit that adds `rewardFile` to the config's `rewards` list, leaving the rest of
 * its text as it is; undefined when the list already has that file. Throws a UserError when
 * the config is not a JSON object.
 */
export function rewardListInsertion(configText: string, configFile: string, rewardFile: string): TextInsertion | undefined {
  const config = parseObject(configText);
  if (!config) throw new UserError(`${configFile}: not a JSON object; fix it, then add { "file": ... } to its "rewards" list by hand`);
  const configDir = dirname(resolve(configFile));
  const listed = Array.isArray(config.rewards) ? config.rewards : [];
  if (listed.some((r) => typeof (r as { file?: unknown })?.file === 'string' && resolve(configDir, (r as { file: string }).file) === resolve(rewardFile))) {
    return undefined;
  }
  const entry = `{ "file": ${JSON.stringify(relative(configDir, rewardFile).split(sep).join('/'))} }`;
  const key = keyValueStart(configText, 'rewards');
  if (key !== undefined && configText[key] === '[') return appendItem(configText, key, closingOf(configText, key), entry);
  if (key !== undefined) throw new UserError(`${configFile}: "rewards" is not a list; make it [${entry}]`);
  const outer = configText.indexOf('{');
  return appendItem(configText, outer, closingOf(configText, outer), `"rewards": [${entry}]`);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** After the last item of the list or object opened at `open` and closed at `close`, indented like its first item. */
function appendItem(text: string, open: number, close: number, item: string): TextInsertion {
  let last = close - 1;
  while (/\s/.test(text[last])) last--;
  if (last === open) return { offset: open + 1, text: item };
  let first = open + 1;
  while (/\s/.test(text[first])) first++;
  const gap = text.slice(open + 1, first);
  return { offset: last + 1, text: `,${gap === '' ? ' ' : gap}${item}` };
}

/** Offset of the value of the top-level object's `key`, in valid JSON text. */
function keyValueStart(text: string, key: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && JSON.parse(text.slice(i, end + 1)) === key) {
        let j = end + 1;
        while (/\s/.test(text[j])) j++;
        if (text[j] === ':') {
          j++;
          while (/\s/.test(text[j])) j++;
          return j;
        }
      }
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

/** Offset of the bracket closing the one at `open`. */
function closingOf(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i;
  }
  throw new Error(`internal error: no closing bracket for offset ${open} in valid JSON`);
}

/** Offset of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
