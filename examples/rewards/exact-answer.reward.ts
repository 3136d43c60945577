// Exact-answer match: 1 when the completion's final answer equals the dataset row's `answer`,
// else 0. The final answer is what follows the last "####" (GSM8K style), or else the last
// number in the text; the same rule reads `answer`, so a GSM8K solution works as the answer.
// Numbers compare by value: "1,000", "1000" and "1000.0" are the same answer.
import type { RewardContext, RewardSample } from 'grpo-studio/reward';
import { finalAnswer, sameAnswer } from './lib/answers';

export function exactAnswer(sample: RewardSample<{ answer: string | number }>, ctx: RewardContext): number {
  const got = finalAnswer(sample.completion);
  ctx.metric('has_answer', got === undefined ? 0 : 1);
  const want = String(sample.row.answer);
  return got !== undefined && sameAnswer(got, finalAnswer(want) ?? want) ? 1 : 0;
}
