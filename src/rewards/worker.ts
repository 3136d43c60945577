// Entry point of a reward process: checks the permissions it runs under, loads one compiled
// reward file, then runs one call at a time for the runner. User code only ever runs here, so
// the runner can kill this process when a call overruns its time limit or its memory bound.

import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import type { RewardContext } from '../../types/reward';
import { defaultRewardName } from './default-name';
import type { PermissionCheck } from './permissions';
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

const send = process.send?.bind(process);
if (!send) throw new Error('internal error: the reward worker must run as a child process with an IPC channel');
const post = (m: LoadedMessage | CallResult) => void send(m);

// Captured before user code runs: a reward may not signal other processes (the trainer, the
// editor), and Node's permission model does not cover signals. process.binding, the way
// around this, is itself refused under the permission model.
type RawKill = (pid: number, signal: number) => number;
const rawKill = (process as unknown as { _kill: RawKill })._kill.bind(process);
const ownKill = process.kill.bind(process);
const refuseKill = (pid: number, signal?: string | number) => {
  if (Number(pid) !== process.pid) throw Object.assign(new Error(`a reward may not signal other processes (pid ${pid})`), { code: 'ERR_ACCESS_DENIED' });
  return ownKill(pid, signal);
};
// process.kill reaches the system through process._kill, so both are replaced, for good.
Object.defineProperty(process, 'kill', { value: refuseKill, writable: false, configurable: false });
Object.defineProperty(process, '_kill', {
  value: (pid: number, signal: number) => (Number(pid) === process.pid ? rawKill(pid, signal) : -1 /* UV_EPERM */),
  writable: false,
  configurable: false,
});

/** file -> function name -> reward (a process loads one file) */
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

/** Why the permissions this process runs under are not the ones asked for, if they are not. */
function permissionProblem(asked: PermissionCheck): string | undefined {
  const p = (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
  const node = `${process.execPath} (Node ${process.version})`;
  if (!p) return `${node} does not enforce Node's permission model, which reward files run under; set grpo.nodePath (or run grpo) with Node 20 or later`;
  const wrong = [
    ...asked.writable.filter((f) => !p.has('fs.write', f)).map((f) => `cannot write ${f}`),
    ...(p.has('fs.write', asked.outside) ? [`could write ${asked.outside}`] : []),
    ...(p.has('child') !== asked.childProcesses ? [`child processes ${asked.childProcesses ? 'refused' : 'allowed'}`] : []),
  ];
  return wrong.length ? `${node} did not apply the reward permissions asked for (${wrong.join('; ')})` : undefined;
}

const data = JSON.parse(process.argv[2]) as WorkerData;
const refused = permissionProblem(data.permissions);
if (refused) {
  post({ type: 'loaded', file: { file: data.bundle.file, ok: false, message: refused }, refused });
} else {
  const file = load(data.bundle);
  process.on('message', (req: CallRequest) => {
    void run(req).then(post);
  });
  post({ type: 'loaded', file });
}
