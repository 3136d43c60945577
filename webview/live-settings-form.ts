// The settings inputs -> a `live-settings` change. Only fields the user changed are sent,
// so an untouched field keeps following the trainer's schedule.
import type { CurrentSettings, LiveSettingsChange } from '../src/protocol/dashboard-messages';

export interface SettingsInputs {
  learningRate: string;
  klCoef: string;
  temperature: string;
  rewardWeights: Record<string, string>;
}

export type SettingsParse = { ok: true; change: LiveSettingsChange | null } | { ok: false; problems: string[] };

export function inputsFromSettings(s: CurrentSettings): SettingsInputs {
  return {
    learningRate: String(s.learningRate),
    klCoef: String(s.klCoef),
    temperature: String(s.temperature),
    rewardWeights: Object.fromEntries(Object.entries(s.rewardWeights).map(([k, v]) => [k, String(v)])),
  };
}

function parse(raw: string, name: string, rule: 'positive' | 'non-negative' | 'any', problems: string[]): number | undefined {
  const text = raw.trim();
  const x = text === '' ? NaN : Number(text);
  const bad = !Number.isFinite(x) || (rule === 'positive' && x <= 0) || (rule === 'non-negative' && x < 0);
  if (bad) problems.push(`${name}: "${raw}" is not ${rule === 'any' ? 'a number' : `a ${rule} number`}`);
  return bad ? undefined : x;
}

/** Compares inputs with the current settings; `change` is null when nothing differs. */
export function parseSettingsInputs(inputs: SettingsInputs, current: CurrentSettings): SettingsParse {
  const problems: string[] = [];
  const change: LiveSettingsChange = {};
  const lr = parse(inputs.learningRate, 'learning rate', 'positive', problems);
  const kl = parse(inputs.klCoef, 'kl_coef', 'non-negative', problems);
  const t = parse(inputs.temperature, 'temperature', 'positive', problems);
  if (lr !== undefined && lr !== current.learningRate) change.learningRate = lr;
  if (kl !== undefined && kl !== current.klCoef) change.klCoef = kl;
  if (t !== undefined && t !== current.temperature) change.temperature = t;
  const weights: Record<string, number> = {};
  for (const [fn, raw] of Object.entries(inputs.rewardWeights)) {
    const w = parse(raw, `weight of ${fn}`, 'any', problems);
    if (w !== undefined && w !== current.rewardWeights[fn]) weights[fn] = w;
  }
  if (Object.keys(weights).length > 0) change.rewardWeights = weights;
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, change: Object.keys(change).length > 0 ? change : null };
}
