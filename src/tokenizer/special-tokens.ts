import { join } from 'node:path';
import { UserError } from '../errors';
import { quoteValue } from '../error-text';
import { readOptionalJsonObject, type JsonObject } from './json-file';

/** The special-token fields transformers knows; all of them are in scope for chat templates. */
const SPECIAL_TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
type SpecialTokenField = (typeof SPECIAL_TOKEN_FIELDS)[number];

/** A special token as a config file names it, with where, so a bad one can be reported precisely. */
export interface NamedToken {
  content: string;
  file: string;
  field: string;
}

/** What the files around `tokenizer.json` say about special tokens and how to use them. */
export interface SpecialTokenConfig {
  named: Partial<Record<SpecialTokenField, NamedToken>>;
  additional: string[]; // additional_special_tokens: skipped by decode(skipSpecialTokens) like the others
  addBosToken: boolean | undefined; // undefined: leave it to tokenizer.json's post-processor
  cleanUpTokenizationSpaces: boolean;
  generationEosTokenIds: number[]; // generation_config.json eos_token_id, a number or a list
  generationPadTokenId: number | undefined;
}

/**
 * Reads special tokens from `tokenizer_config.json` (already parsed, passed in), then
 * `special_tokens_map.json`, whose values win as they do in transformers' loader, and the
 * generation stop ids from `generation_config.json`.
 */
export async function readSpecialTokens(modelDir: string, tokenizerConfig: JsonObject | undefined): Promise<SpecialTokenConfig> {
  const configFile = join(modelDir, 'tokenizer_config.json');
  const mapFile = join(modelDir, 'special_tokens_map.json');
  const generationFile = join(modelDir, 'generation_config.json');
  const tokensMap = await readOptionalJsonObject(mapFile);
  const generation = await readOptionalJsonObject(generationFile);

  const named: SpecialTokenConfig['named'] = {};
  for (const field of SPECIAL_TOKEN_FIELDS) {
    for (const [file, json] of [[configFile, tokenizerConfig], [mapFile, tokensMap]] as const) {
      if (json === undefined || !(field in json)) continue;
      const content = tokenContent(json[field], file, field);
      if (content === undefined) delete named[field];
      else named[field] = { content, file, field };
    }
  }

  const additional = new Set<string>();
  for (const [file, json] of [[configFile, tokenizerConfig], [mapFile, tokensMap]] as const) {
    const list = json?.additional_special_tokens;
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      throw new UserError(`${file}: field "additional_special_tokens" must be a list of tokens, got ${quoteValue(list)}`);
    }
    list.forEach((t, i) => {
      const content = tokenContent(t, file, `additional_special_tokens[${i}]`);
      if (content !== undefined) additional.add(content);
    });
  }

  return {
    named,
    additional: [...additional],
    addBosToken: optionalBoolean(tokenizerConfig, 'add_bos_token', configFile),
    // transformers reads this from tokenizer_config.json and defaults to false; a true here
    // (Llama 3 sets it) turns " ." into "." when decoding, which we reproduce for fidelity.
    cleanUpTokenizationSpaces: optionalBoolean(tokenizerConfig, 'clean_up_tokenization_spaces', configFile) ?? false,
    generationEosTokenIds: tokenIdList(generation?.eos_token_id, generationFile, 'eos_token_id'),
    generationPadTokenId: tokenIdList(generation?.pad_token_id, generationFile, 'pad_token_id')[0],
  };
}

/** A token field may be a string, null, or an AddedToken-like object `{ content: "..." }`. */
function tokenContent(value: unknown, file: string, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as JsonObject).content === 'string') return (value as JsonObject).content as string;
  throw new UserError(`${file}: field "${field}" must be a token string or an object with "content", got ${quoteValue(value)}`);
}

function optionalBoolean(json: JsonObject | undefined, field: string, file: string): boolean | undefined {
  const v = json?.[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new UserError(`${file}: field "${field}" must be true or false, got ${quoteValue(v)}`);
  return v;
}

function tokenIdList(value: unknown, file: string, field: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new UserError(`${file}: field "${field}" must be a token id or a list of token ids, got ${quoteValue(value)}`);
    }
  }
  return list as number[];
}
