// What a dataset line shows of its row's latest group: a summary after the line, and every
// completion on hover. Completions are model output: the hover shows them as literal text.
import { isPromptsJson, jsonlRowLines } from '../../trainer/dataset';
import type { GroupMember, RowGroup, RowGroups } from './row-groups';

/** Characters of the best completion shown after the line. */
const SUMMARY_CHARS = 60;

const figure = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

/** One line of text, cut to `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `iter 12 · mean reward 0.420 · best 0.900: "The answer is 4"` */
export function rowSummary(g: RowGroup): string {
  const best = g.members[0];
  const bestText = best ? ` · best ${figure(best.reward)}: "${oneLine(best.completion, SUMMARY_CHARS)}"` : '';
  return `iter ${g.iteration} · mean reward ${figure(g.meanReward)}${bestText}`;
}

/** Markdown's special characters escaped, so names and numbers show as typed. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&~]/g, (c) => `\\${c}`);
}

/** A fenced block longer than any run of backticks inside: the text cannot end it early. */
function literalBlock(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

function memberMarkdown(m: GroupMember, i: number): string {
  const perFunction = Object.entries(m.rewards).map(([fn, v]) => `${escapeMarkdown(fn)} ${escapeMarkdown(figure(v))}`);
  const head = `**${i + 1}.** reward ${escapeMarkdown(figure(m.reward))} · advantage ${escapeMarkdown(figure(m.advantage))}${perFunction.length ? ` · ${perFunction.join(', ')}` : ''}`;
  return `${head}\n\n${literalBlock(m.completion)}`;
}

/** Every completion of the group, best first, with its reward, advantage and per-function values. */
export function rowHover(g: RowGroup): string {
  const title = `**GRPO: iteration ${g.iteration}**, mean reward ${escapeMarkdown(figure(g.meanReward))}, ${g.members.length} completions`;
  return [title, ...g.members.map(memberMarkdown)].join('\n\n---\n\n');
}

export interface RowDecoration {
  /** 0-based line of the row in the dataset text. */
  line: number;
  summary: string;
  hover: string;
}

/**
 * The decorations of a dataset's text: row i on the line the dataset loader reads it from.
 * A `{"prompts": [...]}` file has no line per row, and gets none.
 */
export function rowDecorations(text: string, groups: RowGroups): RowDecoration[] {
  if (isPromptsJson(text)) return [];
  const lines = jsonlRowLines(text);
  const out: RowDecoration[] = [];
  for (const [row, g] of groups) {
    if (row < lines.length) out.push({ line: lines[row], summary: rowSummary(g), hover: rowHover(g) });
  }
  return out.sort((a, b) => a.line - b.line);
}
