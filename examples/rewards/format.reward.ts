// Format rewards: they score the shape of a completion, not its content.
// - answerTags: 1 when the completion is <think>...</think> then <answer>...</answer> and
//   nothing else (the DeepSeek-R1 format), else 0.
// - validJson: 1 when the completion, or its fenced ```json block, parses as a JSON object or
//   array, else 0.
import type { RewardSample } from 'grpo-studio/reward';

const TAGGED = /^\s*<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>\s*$/;

export function answerTags(sample: RewardSample): number {
  return TAGGED.test(sample.completion) ? 1 : 0;
}

export function validJson(sample: RewardSample): number {
  const fenced = /```(?:json)?[ \t]*\n([\s\S]*?)```/.exec(sample.completion);
  const text = (fenced ? fenced[1] : sample.completion).trim();
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? 1 : 0;
  } catch {
    return 0;
  }
}
