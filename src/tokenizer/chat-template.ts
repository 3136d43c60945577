import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { UserError } from '../errors';
import type { JsonObject } from './json-file';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

/**
 * ChatML, as Qwen and SmolLM instruct models use it. Written for models we initialise
 * ourselves; a loaded model always brings its own template.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A model's chat template, compiled on first use so a template we cannot parse only fails chat use. */
export class ChatTemplate {
  private compiled: Template | undefined;

  /** `origin` says where the text came from, for error messages: a file, or a field of one. */
  constructor(
    readonly text: string,
    readonly origin: string,
  ) {}

  /** Renders `messages`; `variables` are the special tokens (`bos_token`, `eos_token`, ...) in scope. */
  render(messages: ChatMessage[], addGenerationPrompt: boolean, variables: Record<string, unknown>): string {
    let template: Template;
    try {
      template = this.compiled ??= withBoundedRange(new Template(this.text));
    } catch (e) {
      throw new UserError(`${this.origin}: the chat template does not parse (${(e as Error).message}); fix the template or use plain-text prompts`);
    }
    try {
      return template.render({
        ...variables,
        messages: messages.map((m) => ({ ...m })),
        add_generation_prompt: addGenerationPrompt,
        [BOUNDED_RANGE]: boundedRange(),
      });
    } catch (e) {
      // Templates call raise_exception() for message lists they refuse, e.g. roles out of order.
      throw new UserError(`${this.origin}: the chat template rejected the messages: ${(e as Error).message}`);
    }
  }
}

/**
 * The library's range() builds its whole list at once: a template's `range(1000000000)` ended the
 * process (V8 aborts, nothing to catch), and nested ranges ran for hours. Templates call ours
 * instead: the identifier `range` is renamed throughout (the names a template binds itself are
 * renamed alike), and one render may produce at most RANGE_BUDGET numbers in all.
 */
const BOUNDED_RANGE = '__grpo_bounded_range';
const RANGE_BUDGET = 100_000;

function withBoundedRange(template: Template): Template {
  const seen = new Set<object>();
  const rename = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    const n = node as { type?: unknown; value?: unknown };
    if (n.type === 'Identifier' && n.value === 'range') n.value = BOUNDED_RANGE;
    for (const child of Object.values(node)) rename(child);
  };
  rename(template.parsed);
  return template;
}

/** Python's range(stop) / range(start, stop[, step]), as the library's, within one render's budget. */
function boundedRange(): (...args: number[]) => number[] {
  let left = RANGE_BUDGET;
  return (...args) => {
    const [start, stop, step = 1] = args.length === 1 ? [0, args[0]] : args;
    if (step === 0) throw new Error('range() step must not be zero');
    const length = Math.max(0, Math.ceil((stop - start) / step));
    if (!(length <= left)) throw new Error(`range() of ${length} numbers exceeds the ${RANGE_BUDGET} a chat template may produce per prompt`);
    left -= length;
    return Array.from({ length }, (_, i) => start + i * step);
  };
}

export type ChatTemplateLookup = { template: ChatTemplate } | { missing: string };

/**
 * Finds the chat template the way transformers does: `chat_template.jinja` first, then
 * `tokenizer_config.json`'s `chat_template`, which is a string or a list of `{name, template}`
 * of which the one named "default" is used. `missing` explains, in one line, where we looked.
 */
export async function findChatTemplate(modelDir: string, tokenizerConfig: JsonObject | undefined): Promise<ChatTemplateLookup> {
  const jinjaFile = join(modelDir, 'chat_template.jinja');
  const configFile = join(modelDir, 'tokenizer_config.json');
  try {
    return { template: new ChatTemplate(await readFile(jinjaFile, 'utf8'), jinjaFile) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UserError(`${jinjaFile}: cannot be read (${(e as Error).message})`);
    }
  }
  const field = tokenizerConfig?.chat_template;
  const origin = `${configFile} (field "chat_template")`;
  if (typeof field === 'string') return { template: new ChatTemplate(field, origin) };
  if (Array.isArray(field)) {
    const named = field.filter(
      (t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string',
    );
    if (named.length !== field.length) {
      throw new UserError(`${origin}: a list of chat templates must hold objects {"name": ..., "template": ...}`);
    }
    const chosen = named.find((t) => t.name === 'default');
    if (chosen) return { template: new ChatTemplate(chosen.template, `${origin}, template "default"`) };
    return {
      missing: `${origin} lists templates ${named.map((t) => `"${t.name}"`).join(', ')} but none named "default"; name one "default" or add ${jinjaFile}`,
    };
  }
  if (field !== undefined && field !== null) {
    throw new UserError(`${origin}: must be a template string or a list of {"name", "template"}, got ${typeof field}`);
  }
  return {
    missing: `no chat template in ${modelDir}: looked in ${jinjaFile} and the "chat_template" field of ${configFile}; add one of them, or use a model with a chat template (an instruct model)`,
  };
}
