// Entry point of a reward worker thread: loads the compiled reward files, then runs one
// call at a time for the runner. User code only ever runs here, so the runner can terminate
// this thread when a call overruns its time limit.

import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import type { RewardContext } from '../../types/reward';
import { defaultRewardName } from './default-name';
import type { BundleRef, CallProblem, CallRequest, CallResult, ExportedReward, LoadedFile, LoadedMessage, WorkerData } from './protocol';
import { checkBatchValues, checkSampleValue, type Checked } from './values';

// Stacks then point at the user's .ts files (bundles carry inline source maps).
process.setSourceMapsEnabled(true);

type Fn = (...args: unknown[]) => unknown;
interface Reward {
  batched: boolean;
  call: Fn;
  /** The user's file:line:column of the function, for messages about bad return values. */
  definedAt?: string;
}

const port = parentPort;
if (!port) throw new Error('internal error: the reward worker must run in a worker thread');

/** file -> function name -> reward */
const rewards = new Map<string, Map<string, Reward>>();

// Output of the call in progress (a worker runs one call at a time). console.* goes here
// too, so user prints land in the iteration's reward log instead of the trainer's terminal.
let logs: string[] = [];
let metrics: [string, number][] = [];
const toLog = (...args: unknown[]) => void logs.push(format(...args));
console.log = console.info = console.warn = console.error = console.debug = toLog;
// A stray promise or timer callback in user code must not take the worker down between calls.
process.on('unhandledRejection', (e) => toLog('unhandled rejection:', e));
process.on('uncaughtException', (e) => toLog('uncaught exception:', e));


/** A function is a per-sample reward; `{ batched: true, score }` (what `batched()` makes) a batched one. */
function asReward(v: unknown): { batched: boolean; fn: Fn; call: Fn } | undefined {
  if (typeof v === 'function') return { batched: false, fn: v as Fn, call: v as Fn };
  const b = v as { batched?: unknown; score?: unknown } | null;
  if (typeof b === 'object' && b !== null && b.batched === true && typeof b.score === 'function') {
    return { batched: true, fn: b.score as Fn, call: (b.score as Fn).bind(b) };
  }
  return undefined;
}

/** The user's file:line:column where `fn` is defined: its source text located in the bundle, mapped back. */
function definedAt(fn: unknown, code: string, bundlePath: string): string | undefined {
  const at = code.indexOf(Function.prototype.toString.call(fn));
  if (at < 0) return undefined;
  const lines = code.slice(0, at).split('\n');
  const entry = findSourceMap(bundlePath)?.findEntry(lines.length - 1, lines[lines.length - 1].length);
  if (!entry || !('originalSource' in entry)) return undefined;
  const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
  return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}

/** Message and stack of anything thrown, the stack cut where user code was entered. */
function thrown(e: unknown): { message: string; stack?: string } {
  // Duck-typed: errors from a node:vm context are not instances of this realm's Error.
  const err = e as Partial<Error> | null;
  if (typeof err?.stack !== 'string') return { message: `threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}` };
  const frames = err.stack.split('\n').filter((l) => /^\s+at /.test(l));
  const userFrames = frames.filter((l) => !l.includes(__filename) && !l.includes('node:internal'));
  return { message: `${err.name}: ${err.message}`, stack: userFrames.join('\n') || undefined };
}

function load(b: BundleRef): LoadedFile {
  let mod: Record<string, unknown>;
  try {
    mod = require(b.path) as Record<string, unknown>;
  } catch (e) {
    return { file: b.file, ok: false, ...thrown(e) };
  }
  const code = readFileSync(b.path, 'utf8');
  const table = new Map<string, Reward>();
  const found: ExportedReward[] = [];
  for (const [key, value] of Object.entries(mod)) {
    const r = asReward(value);
    if (!r) continue;
    const name = key === 'default' ? defaultRewardName(b.file) : key;
    const reward: Reward = { batched: r.batched, call: r.call, definedAt: definedAt(r.fn, code, b.path) };
    table.set(name, reward);
    found.push({ name, batched: reward.batched, definedAt: reward.definedAt });
  }
  rewards.set(b.file, table);
  return { file: b.file, ok: true, rewards: found };
}

async function run(req: CallRequest): Promise<CallResult> {
  const reward = rewards.get(req.file)?.get(req.fn);
  if (!reward) throw new Error(`internal error: reward ${req.fn} of ${req.file} is not loaded`);
  const n = req.samples.length;
  const ctx: RewardContext = {
    iteration: req.iteration,
    log: (line) => void logs.push(String(line)),
    metric: (name, value) => {
      if (typeof value !== 'number') throw new TypeError(`metric("${name}", value): value must be a number, got ${typeof value}`);
      metrics.push([String(name), value]);
    },
  };
  const problems: CallProblem[] = [];
  let checked: Checked;
  try {
    checked = reward.batched
      ? checkBatchValues(await reward.call(req.samples, ctx), n)
      : checkSampleValue(await reward.call(req.samples[0], ctx));
    if (checked.problem) {
      const stack = reward.definedAt && `    at ${req.fn} (${reward.definedAt})`;
      problems.push({ kind: 'invalid', message: checked.problem, stack, samples: checked.bad });
    }
  } catch (e) {
    const all = req.samples.map((_, i) => i);
    checked = { values: all.map(() => NaN), bad: all };
    problems.push({ kind: 'threw', ...thrown(e), samples: all });
  }
  const result: CallResult = { type: 'result', id: req.id, values: checked.values, problems, logs, metrics };
  logs = [];
  metrics = [];
  return result;
}

const files = (workerData as WorkerData).bundles.map(load);
port.on('message', (req: CallRequest) => {
  void run(req).then((result) => port.postMessage(result));
});
const loaded: LoadedMessage = { type: 'loaded', files };
port.postMessage(loaded);
