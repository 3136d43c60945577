// A checkpoint's trainer-state.json and optimizer.safetensors as read for a resume. Both are
// checked field by field, so a damaged or hand-edited checkpoint is refused naming the file and
// the field, instead of failing later inside the resumed run.
import { UserError } from '../errors';
import { quoteName } from '../error-text';
import { describeValue, dict, finite, list, nullable, object, optional, text, type Shape } from '../protocol/shape';
import type { TensorData } from '../model/safetensors';
import type { TrainerState } from './checkpoint';
import type { AdamWState } from './optimizer';

const count: Shape<number> = {
  check: (v, p) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `${p}: expected an integer >= 0, got ${describeValue(v)}`),
};

/** The four 32-bit words of src/model/rng.ts. */
const rngState: Shape<number[]> = {
  check: (v, p) =>
    Array.isArray(v) && v.length === 4 && v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
      ? undefined
      : `${p}: expected 4 integers from 0 to 4294967295 (a random generator's state), got ${describeValue(v)}`,
};

const trainerState = object({
  iteration: count,
  dataOrder: object({ epoch: count, position: count, order: list(count), rng: rngState }, (d, p) =>
    d.position <= d.order.length ? undefined : `${p}.position: ${d.position} is past the end of ${p}.order (${d.order.length} rows)`,
  ),
  consecutiveSkipped: count,
  // As the dashboard's live-settings message allows them (src/protocol/dashboard-messages.ts).
  live: object({
    learningRate: optional(finite({ above: 0 })),
    klCoef: optional(finite({ min: 0 })),
    temperature: optional(finite({ above: 0 })),
    rewardWeights: optional(dict(finite())),
  }),
  rewardVersions: dict(text),
  optimizerStep: count,
  numTokens: optional(count),
  entropyBonus: optional(object({ coef: finite(), lastEntropy: nullable(finite()) })),
});

const damaged = 'the checkpoint is damaged or was edited by hand; resume from an earlier checkpoint';

/** Checks the parsed trainer-state.json of `file`. */
export function parseTrainerState(json: unknown, file: string): TrainerState {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`${file}: expected a JSON object, got ${describeValue(json)}; ${damaged}`);
  }
  const format = (json as { format?: unknown }).format;
  if (format !== 1) throw new UserError(`${file}: unknown format ${describeValue(format)}; this GRPO Studio reads format 1`);
  const problem = trainerState.check(json, '');
  if (problem) throw new UserError(`${file}: field ${problem}; ${damaged}`);
  return json as TrainerState;
}

/** Adam's moments from optimizer.safetensors (`file`): tensors `m/<param>` and `v/<param>`, in pairs of one size. */
export function momentsFromTensors(tensors: Map<string, TensorData>, file: string): AdamWState['moments'] {
  const halves = new Map<string, { m?: Float32Array; v?: Float32Array }>();
  for (const [key, t] of tensors) {
    const kind = key.slice(0, 2);
    const name = key.slice(2);
    if ((kind !== 'm/' && kind !== 'v/') || name === '') {
      throw new UserError(`${file}: tensor ${quoteName(key)} is not a moment (expected "m/<parameter>" or "v/<parameter>"); ${damaged}`);
    }
    halves.set(name, { ...halves.get(name), [kind[0]]: t.data });
  }
  const moments: AdamWState['moments'] = new Map();
  for (const [name, { m, v }] of halves) {
    if (m === undefined || v === undefined || m.length !== v.length) {
      const sizes = `m ${m ? `of size ${m.length}` : 'missing'}, v ${v ? `of size ${v.length}` : 'missing'}`;
      throw new UserError(`${file}: the moments of ${quoteName(name)} do not pair up (${sizes}); ${damaged}`);
    }
    moments.set(name, { m, v });
  }
  return moments;
}
