import { readFile } from 'node:fs/promises';
import { UserError } from '../errors';
import type { ChatMessage, Tokenizer } from '../tokenizer/tokenizer';

/** One prompt of a dataset and the columns that travel with it to the reward functions. */
export interface PromptRow {
  index: number; // position in the file, stable across runs: rollouts refer to it
  prompt: string | ChatMessage[];
  row: Record<string, unknown>; // every other column, e.g. `answer`
}

/**
 * Reads prompts from JSONL (one object per line with a `prompt`: text, or chat messages
 * `[{role, content}]`) or from JSON `{"prompts": [...]}` whose items are strings or such
 * objects. Errors name the file, the line (JSONL) or item, and what is wrong.
 *
 * `file` may be anywhere, links followed: dataset_path is the user's own choice in their own
 * config, data sets often live in a shared data folder, it is only read, and a config is only
 * acted on in a trusted workspace (src/extension/trust.ts). What must stay inside its folder is
 * what a run writes or a command is handed: run and checkpoint folders (checkpoint-files.ts).
 */
export async function loadPromptDataset(file: string): Promise<PromptRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(`${file}: dataset not found; set dataset_path to a .jsonl file with a "prompt" on each line`);
    }
    // A folder, a file we may not read, or one past the 512 MB a string can hold.
    throw new UserError(`${file}: the dataset cannot be read (${(e as Error).message}); set dataset_path to a readable .jsonl file`);
  }
  const rows = isPromptsJson(text) ? fromPromptsJson(text.trimStart(), file) : fromJsonl(text, file);
  if (rows.length === 0) throw new UserError(`${file}: the dataset has no prompts`);
  return rows;
}

/** A `{"prompts": [...]}` file rather than JSONL: its rows are array items, not lines. */
export function isPromptsJson(text: string): boolean {
  const trimmed = text.trimStart();
  return trimmed.startsWith('{') && isWholeJson(trimmed);
}

/** The 0-based lines of a JSONL dataset that hold rows: row i is on line lines[i]. Blank lines hold none. */
export function jsonlRowLines(text: string): number[] {
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') lines.push(i);
  });
  return lines;
}

function isWholeJson(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && 'prompts' in v;
  } catch {
    return false;
  }
}

function fromPromptsJson(text: string, file: string): PromptRow[] {
  const { prompts } = JSON.parse(text) as { prompts: unknown };
  if (!Array.isArray(prompts)) throw new UserError(`${file}: "prompts" must be an array of strings or {"prompt": ...} objects`);
  return prompts.map((item, i) => toRow(typeof item === 'string' ? { prompt: item } : item, i, `${file}: prompts[${i}]`));
}

function fromJsonl(text: string, file: string): PromptRow[] {
  const lines = text.split('\n');
  return jsonlRowLines(text).map((at, index) => {
    let value: unknown;
    try {
      value = JSON.parse(lines[at]);
    } catch (e) {
      throw new UserError(`${file}:${at + 1}: not valid JSON (${(e as Error).message})`);
    }
    return toRow(value, index, `${file}:${at + 1}`);
  });
}

function toRow(value: unknown, index: number, where: string): PromptRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${where}: expected an object with a "prompt" field`);
  }
  const { prompt, ...row } = value as Record<string, unknown>;
  if (typeof prompt === 'string') {
    if (prompt === '') throw new UserError(`${where}: "prompt" is empty`);
    return { index, prompt, row };
  }
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every(isMessage)) return { index, prompt, row };
  throw new UserError(`${where}: "prompt" must be text or a non-empty list of {"role", "content"} messages`);
}

function isMessage(m: unknown): m is ChatMessage {
  return typeof m === 'object' && m !== null && typeof (m as ChatMessage).role === 'string' && typeof (m as ChatMessage).content === 'string';
}

/** The prompt as the model sees it: chat messages (or text, when asked) through the chat template. */
export function renderPrompt(row: PromptRow, tokenizer: Tokenizer, useChatTemplate: boolean): string {
  if (typeof row.prompt === 'string' && !useChatTemplate) return row.prompt;
  const messages = typeof row.prompt === 'string' ? [{ role: 'user', content: row.prompt }] : row.prompt;
  return tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
}

/** The prompt as the model sees it, and its token ids: a chat template writes its own BOS, plain text gets the tokenizer's. */
export function preparePrompt(row: PromptRow, tokenizer: Tokenizer, useChatTemplate: boolean): { text: string; ids: number[] } {
  const chat = useChatTemplate || typeof row.prompt !== 'string';
  const text = renderPrompt(row, tokenizer, useChatTemplate);
  return { text, ids: tokenizer.encode(text, { addSpecialTokens: !chat }) };
}

/** Prompt token ids only. */
export function encodePrompt(row: PromptRow, tokenizer: Tokenizer, useChatTemplate: boolean): number[] {
  return preparePrompt(row, tokenizer, useChatTemplate).ids;
}
