import { UserError } from '../errors';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { encodePrompt, type PromptRow } from './dataset';

/** A prompt and the tokens the model should answer it with, ending in EOS. */
export interface SftExample {
  index: number; // the row's position in the dataset
  promptIds: number[];
  answerIds: number[]; // the answer's tokens, then the EOS token, so the model learns to stop
}

/** The target text of a row: its `answer`, or else its `completion`. */
export function answerOf(row: PromptRow, file: string): string {
  const answer = row.row.answer ?? row.row.completion;
  if (typeof answer !== 'string' || answer === '') {
    throw new UserError(`${file}: row ${row.index + 1} has no "answer" (or "completion") text; add the reply the model should learn for this prompt`);
  }
  return answer;
}

/**
 * Tokenises each row. The answer is encoded on its own, not joined to the prompt, so its
 * tokens are the ones the model would generate after the prompt's tokens.
 */
export function encodeSftExamples(rows: PromptRow[], tokenizer: Tokenizer, useChatTemplate: boolean, file: string): SftExample[] {
  const eos = tokenizer.eosTokenIds[0];
  if (eos === undefined) {
    throw new UserError(`${file}: the model's tokenizer defines no eos_token, so an answer cannot be taught to end; set eos_token in tokenizer_config.json`);
  }
  return rows.map((row) => ({
    index: row.index,
    promptIds: encodePrompt(row, tokenizer, useChatTemplate),
    answerIds: [...tokenizer.encode(answerOf(row, file), { addSpecialTokens: false }), eos],
  }));
}
