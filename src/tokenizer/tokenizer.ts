import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { assert, UserError } from '../errors';
import { quoteName, quoteValue } from '../error-text';
import { findChatTemplate, type ChatMessage, type ChatTemplateLookup } from './chat-template';
import { readOptionalJsonObject, type JsonObject } from './json-file';
import { readSpecialTokens, type NamedToken, type SpecialTokenConfig } from './special-tokens';

export type { ChatMessage } from './chat-template';

/**
 * How `add_bos_token` in tokenizer_config.json changes what tokenizer.json's post-processor
 * does: transformers rebuilds the post-processor from that flag, which comes to the same as
 * prepending or dropping the leading BOS here.
 */
type BosRule = 'as-is' | 'prepend' | 'drop';

/** A Hugging Face tokenizer folder: `tokenizer.json` plus the config files around it. */
export class Tokenizer {
  private constructor(
    private readonly hf: HfTokenizer,
    private readonly tokenizerFile: string,
    readonly vocabSize: number,
    readonly bosTokenId: number | undefined,
    readonly eosTokenIds: number[],
    readonly padTokenId: number | undefined,
    private readonly bosRule: BosRule,
    private readonly chatTemplate: ChatTemplateLookup,
    private readonly templateVariables: Record<string, unknown>,
  ) {}

  static async load(modelDir: string): Promise<Tokenizer> {
    const tokenizerFile = join(modelDir, 'tokenizer.json');
    const tokenizerJson = await readTokenizerJson(tokenizerFile);
    const tokenizerConfig = await readOptionalJsonObject(join(modelDir, 'tokenizer_config.json'));
    const special = await readSpecialTokens(modelDir, tokenizerConfig);

    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(tokenizerJson, {
        ...tokenizerConfig,
        additional_special_tokens: special.additional,
        clean_up_tokenization_spaces: special.cleanUpTokenizationSpaces,
      });
    } catch (e) {
      throw new UserError(
        `${tokenizerFile}: cannot be loaded (${(e as Error).message}); the file is malformed or uses a tokenizer type @huggingface/tokenizers does not support`,
      );
    }
    const idOf = (t: NamedToken | undefined): number | undefined => {
      if (t === undefined) return undefined;
      const id = hf.token_to_id(t.content);
      if (id === undefined) {
        throw new UserError(`${t.file}: field "${t.field}" names ${JSON.stringify(t.content)}, which is not in ${tokenizerFile}; use a token from its vocabulary`);
      }
      return id;
    };

    const bosTokenId = idOf(special.named.bos_token);
    const tokenizerEos = idOf(special.named.eos_token);
    // A chat model often ends a turn with one token (<|im_end|>) and a document with another
    // (<|endoftext|>); generation_config.json lists all of them and generation stops on any.
    const eosTokenIds = [...new Set([...(tokenizerEos === undefined ? [] : [tokenizerEos]), ...special.generationEosTokenIds])];
    // Batches of prompts need some pad id even when the model defines none; its value never
    // reaches the loss because padded positions are masked, so the usual choice, EOS, is safe.
    const padTokenId = idOf(special.named.pad_token) ?? special.generationPadTokenId ?? eosTokenIds[0];

    assert(hf.model !== null, 'the tokenizer library builds a model from every tokenizer.json it accepts');

    return new Tokenizer(
      hf,
      tokenizerFile,
      // Highest id + 1, added tokens included: the embedding rows a model needs for this tokenizer.
      hf.model.vocab.length,
      bosTokenId,
      eosTokenIds,
      padTokenId,
      bosRule(hf, bosTokenId, special.addBosToken),
      await findChatTemplate(modelDir, tokenizerConfig),
      templateVariables(special),
    );
  }

  /** Token ids of `text`; with `addSpecialTokens` (the default) BOS etc. as the tokenizer adds them. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const addSpecialTokens = opts.addSpecialTokens ?? true;
    const ids = this.hf.encode(text, { add_special_tokens: addSpecialTokens }).ids;
    if (ids.some((id) => id === undefined)) {
      throw new UserError(`${this.tokenizerFile}: no token covers part of ${JSON.stringify(text.slice(0, 40))} and the model has no unk_token; use a tokenizer whose vocabulary covers all bytes`);
    }
    if (!addSpecialTokens || this.bosTokenId === undefined) return ids;
    if (this.bosRule === 'prepend') return [this.bosTokenId, ...ids];
    if (this.bosRule === 'drop') return ids.slice(1);
    return ids;
  }

  /**
   * Text of `ids`. Safe on any prefix of a generation: a UTF-8 character whose bytes are split
   * across tokens decodes to U+FFFD until its last byte arrives. Ids past the vocabulary (models
   * often pad their embedding beyond it) decode to nothing, as in transformers.
   */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    return this.hf.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  get hasChatTemplate(): boolean {
    return 'template' in this.chatTemplate;
  }

  /**
   * The prompt text for `messages`. The template writes BOS itself where the model wants one,
   * so encode the result with `{ addSpecialTokens: false }`, as transformers does.
   */
  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (!('template' in this.chatTemplate)) throw new UserError(this.chatTemplate.missing);
    return this.chatTemplate.template.render(messages, opts.addGenerationPrompt ?? false, this.templateVariables);
  }
}

async function readTokenizerJson(file: string): Promise<JsonObject> {
  const json = await readOptionalJsonObject(file);
  if (json === undefined) {
    throw new UserError(`${file}: not found; the model folder needs a Hugging Face tokenizer.json (tokenizer.save_pretrained writes one)`);
  }
  if (typeof json.model !== 'object' || json.model === null) {
    throw new UserError(`${file}: field "model" is missing; re-save the tokenizer with a recent transformers`);
  }
  checkTokenIds(json, file);
  // The library reads these keys unconditionally; the Rust tokenizers writes them all, hand-made files may not.
  return { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
}

/**
 * Token ids past this mean a damaged file: the largest vocabularies of LLaMA-family models are
 * near 2^18, and the library sizes its id -> token array by the largest id it is given.
 */
const MAX_TOKEN_ID = 2 ** 24;

/** The library takes vocabulary ids as given; an id that is not a small integer would come out of encode(). */
function checkTokenIds(json: JsonObject, file: string): void {
  const isId = (id: unknown): boolean => typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 && id < MAX_TOKEN_ID;
  const fix = 're-save the tokenizer with transformers, or download it again';
  const vocab = (json.model as JsonObject).vocab;
  if (Array.isArray(vocab)) {
    // Unigram: the id of a piece is its position.
    if (vocab.length > MAX_TOKEN_ID) throw new UserError(`${file}: field "model.vocab" lists ${vocab.length} pieces, more than ${MAX_TOKEN_ID}; ${fix}`);
    vocab.forEach((entry: unknown, i) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        throw new UserError(`${file}: field "model.vocab[${i}]" must be a [piece, score] pair, got ${quoteValue(entry)}; ${fix}`);
      }
    });
  } else if (typeof vocab === 'object' && vocab !== null) {
    for (const [token, id] of Object.entries(vocab)) {
      if (!isId(id)) throw new UserError(`${file}: field "model.vocab" gives token ${quoteName(token)} the id ${quoteValue(id)}; ids are integers from 0 to ${MAX_TOKEN_ID - 1}; ${fix}`);
    }
  }
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new UserError(`${file}: field "added_tokens" must be a list of {"id", "content"} objects, got ${quoteValue(added)}; ${fix}`);
  added.forEach((t: unknown, i) => {
    const { id, content } = (typeof t === 'object' && t !== null ? t : {}) as JsonObject;
    if (!isId(id) || typeof content !== 'string') {
      throw new UserError(`${file}: field "added_tokens[${i}]" must have an integer "id" from 0 to ${MAX_TOKEN_ID - 1} and a string "content", got ${quoteValue(t)}; ${fix}`);
    }
  });
}

function bosRule(hf: HfTokenizer, bosTokenId: number | undefined, addBosToken: boolean | undefined): BosRule {
  if (bosTokenId === undefined || addBosToken === undefined) return 'as-is';
  // What the post-processor puts around an empty text is exactly what it adds to any text.
  const postProcessorAddsBos = hf.encode('', { add_special_tokens: true }).ids[0] === bosTokenId;
  if (addBosToken && !postProcessorAddsBos) return 'prepend';
  if (!addBosToken && postProcessorAddsBos) return 'drop';
  return 'as-is';
}

/** The variables transformers puts in scope for chat templates: its special tokens map. */
function templateVariables(special: SpecialTokenConfig): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [field, token] of Object.entries(special.named)) vars[field] = token.content;
  if (special.additional.length > 0) vars.additional_special_tokens = special.additional;
  return vars;
}
