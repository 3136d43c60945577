import { Tokenizer } from '../tokenizer/tokenizer';
import type { DecodeToken } from './run-folder';

/**
 * Each id's text on its own, special tokens kept, for colouring a completion token by token.
 * An iteration repeats a small vocabulary many times over, so each id is decoded once.
 * A character whose UTF-8 bytes span tokens shows as U+FFFD in each of them.
 */
export function tokenTexts(tokenizer: Pick<Tokenizer, 'decode'>): DecodeToken {
  const cache = new Map<number, string>();
  return (id) => {
    let text = cache.get(id);
    if (text === undefined) {
      text = tokenizer.decode([id], { skipSpecialTokens: false });
      cache.set(id, text);
    }
    return text;
  };
}

/** The decoder for a run's model folder (the config's model_path). */
export async function loadTokenTexts(modelPath: string): Promise<DecodeToken> {
  return tokenTexts(await Tokenizer.load(modelPath));
}
