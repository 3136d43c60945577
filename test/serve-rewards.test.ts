// `grpo serve-rewards` as a trainer elsewhere sees it: a real server process on a free port, real
// reward files, and HTTP requests in both protocols (ours, and OpenRLHF's remote reward).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RewardRunner, type ScoreInput } from '../src/rewards/runner';
import { scoreAnswer } from '../src/serve-rewards/score-protocol';
import { grpo } from './helpers/cli';
import { isGone } from './helpers/process-gone';
import { workspace } from './helpers/workspace';

const CLI = join(__dirname, '..', 'out', 'cli.js');
const EXACT_ANSWER = join(__dirname, '..', 'examples', 'rewards', 'exact-answer.reward.ts');


interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: string;
  stderr: () => string;
  /** The server's TMPDIR, where the runner keeps its compiled bundles. */
  tmp: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `grpo serve-rewards ARGS --port 0` in `cwd` and reads its URL from the line it prints. */
async function serve(cwd: string, args: string[]): Promise<Served> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const tmp = mkdtempSync(join(tmpdir(), 'grpo-serve-rewards-tmp-'));
  const child = spawn(process.execPath, [CLI, 'serve-rewards', ...args, '--port', '0'], { cwd, env: { ...process.env, TMPDIR: tmp } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; stderr:\n${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = stdout.match(/ on (http:\/\/\S+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(({ code }) => reject(new Error(`serve-rewards exited ${code} before serving:\n${stderr}`)));
  });
  return { child, url, stdout, stderr: () => stderr, tmp, exited };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: await r.json() };
}

/** Process ids whose parent is `pid` (ps works on Linux and macOS alike). */
function childrenOf(pid: number): number[] {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  return table
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === pid)
    .map(([p]) => p);
}


async function assertAllGone(pids: number[]): Promise<void> {
  const t0 = Date.now();
  while (pids.some((p) => !isGone(p)) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pids.filter((p) => !isGone(p)), [], 'reward workers still running after the server exited');
}

const BASIC_REWARD = `
import type { RewardContext, RewardSample } from 'grpo-studio/reward';

// The completion read as a number; anything else is NaN, which the runner records as invalid.
export function number(s: RewardSample): number {
  return Number(s.completion);
}

export function bonus(s: RewardSample, ctx: RewardContext): number {
  if (s.completion.includes('boom')) throw new Error('boom in the completion');
  ctx.metric('length', s.completion.length);
  return 10;
}
`;

describe('serving a training config', () => {
  let root: string;
  let server: Served;
  before(async () => {
    root = workspace({
      'rewards/basic.reward.ts': BASIC_REWARD,
      'grpo.config.json': JSON.stringify({
        model_path: 'model',
        dataset_path: 'prompts.jsonl',
        rewards: [{ file: 'rewards/basic.reward.ts', weight: 2 }, { file: EXACT_ANSWER }],
      }),
    });
    server = await serve(root, ['--config', 'grpo.config.json']);
  });
  after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    rmSync(server.tmp, { recursive: true, force: true });
  });

  test('it listens on 127.0.0.1 unless told otherwise, and names its functions on stdout', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.stdout, /serving 3 reward functions \(bonus, number, exactAnswer\)/);
  });

  test('POST /score answers what RewardRunner scores directly: values, weighted total, errors, metrics', async () => {
    const samples: ScoreInput[] = [
      { prompt: 'What is 3+4?', completion: '7', completionIds: [5, 6], row: { answer: '7' } },
      { prompt: 'What is 3+4?', completion: '8', completionIds: [], row: { answer: '7' } },
      { prompt: 'Say boom', completion: 'boom', completionIds: [9], row: { answer: '0' } },
    ];
    const wire = samples.map((s) => ({ prompt: s.prompt, completion: s.completion, completion_ids: s.completionIds, row: s.row }));
    const served = await post(`${server.url}/score`, { samples: wire, iteration: 4 });
    assert.equal(served.status, 200, JSON.stringify(served.json));

    const runner = await RewardRunner.start([{ file: 'rewards/basic.reward.ts', weight: 2 }, { file: EXACT_ANSWER }], { workspaceRoot: root });
    try {
      assert.deepEqual(served.json, scoreAnswer(await runner.score(samples, 4)));
    } finally {
      await runner.close();
    }
    // The numbers themselves, so that a wrong answer cannot pass by matching a wrong runner.
    const values = Object.fromEntries(served.json.functions.map((f: { name: string; values: unknown }) => [f.name, f.values]));
    assert.deepEqual(values, { number: [7, 8, null], bonus: [10, 10, null], exactAnswer: [1, 0, 0] });
    assert.deepEqual(served.json.total, [2 * 7 + 2 * 10 + 1, 2 * 8 + 2 * 10, 0]);
    const kinds = served.json.errors.map((e: { function: string | null; kind: string; samples: number[] }) => [e.function, e.kind, e.samples]);
    assert.deepEqual(kinds.sort(), [['bonus', 'threw', [2]], ['number', 'invalid', [2]]]);
  });

  test('OpenRLHF: 20 concurrent requests of 1 to 20 queries each get their own rewards back', async () => {
    const requests = Array.from({ length: 20 }, (_, k) => {
      const n = k + 1;
      const prompts = Array.from({ length: n }, (_, j) => `Request ${k}, query ${j}: `);
      const numbers = Array.from({ length: n }, (_, j) => k * 1000 + j);
      // Every other label matches, so the label reaching row.answer shows in exactAnswer.
      const labels = numbers.map((x, j) => (j % 2 === 0 ? String(x) : 'no'));
      // In every third request one query fails two functions, at its own position.
      const boom = k % 3 === 1 ? k % n : -1;
      const completions = numbers.map((x, j) => (j === boom ? 'boom' : String(x)));
      return { body: { query: prompts.map((p, j) => p + completions[j]), prompts, labels }, numbers, boom };
    });
    const answers = await Promise.all(requests.map((r) => post(`${server.url}/get_reward`, r.body)));
    answers.forEach((a, k) => {
      assert.equal(a.status, 200, JSON.stringify(a.json));
      const { numbers, boom } = requests[k];
      const want = numbers.map((x, j) => (j === boom ? 0 : 2 * x + 2 * 10 + (j % 2 === 0 ? 1 : 0)));
      assert.deepEqual(a.json.rewards, want, `request ${k}`);
      assert.deepEqual(a.json.scores, want, `request ${k}: scores, which OpenRLHF filters on`);
      assert.deepEqual(a.json.extra_logs, { reward_failures: numbers.map((_, j) => (j === boom ? 2 : 0)) }, `request ${k}`);
    });
  });

  test('OpenRLHF: a throwing reward counts 0, a query without its prompt gets 0, and the server keeps serving', async () => {
    const a = await post(`${server.url}/get_reward`, {
      query: ['Q: 5', 'Q: boom', 'changed prompt: 5'],
      prompts: ['Q: ', 'Q: ', 'Q: '],
      labels: ['5', '5', '5'],
    });
    assert.equal(a.status, 200, JSON.stringify(a.json));
    // boom: number is invalid and bonus throws, exactAnswer finds no answer (0).
    assert.deepEqual(a.json.rewards, [2 * 5 + 2 * 10 + 1, 0, 0]);
    assert.deepEqual(a.json.extra_logs.reward_failures, [0, 2, 3]);
    const withoutPrompt = a.json.errors.find((e: { kind: string }) => e.kind === 'query_without_prompt');
    assert.deepEqual(withoutPrompt.samples, [2]);
    assert.match(server.stderr(), /bonus \(rewards\/basic\.reward\.ts\) threw: Error: boom in the completion/);

    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    const info = (await health.json()) as { functions: { name: string; weight: number }[] };
    assert.deepEqual(info.functions.map((f) => [f.name, f.weight]), [['bonus', 2], ['number', 2], ['exactAnswer', 1]]);
  });

  test('bad requests get 400 (413 when oversize) naming the field, and the server keeps serving', async () => {
    const refusals: [string, unknown, number, RegExp][] = [
      ['/score', '{"samples": [', 400, /not valid JSON/],
      ['/score', '', 400, /body is empty/],
      ['/score', [1], 400, /request body must be a JSON object/],
      ['/score', {}, 400, /^samples is missing/],
      ['/score', { samples: {} }, 400, /^samples must be an array/],
      ['/score', { samples: [{ prompt: 'p', completion: 'c' }, { prompt: 'p', completion: 3 }] }, 400, /^samples\[1\]\.completion must be a string, got 3/],
      ['/score', { samples: [{ completion: 'c' }] }, 400, /^samples\[0\]\.prompt is missing/],
      ['/score', { samples: [{ prompt: 'p', completion: 'c', completionIds: [1] }] }, 400, /"samples\[0\]\.completionIds"; did you mean completion_ids/],
      ['/score', { samples: [{ prompt: 'p', completion: 'c', completion_ids: [1, -2] }] }, 400, /^samples\[0\]\.completion_ids\[1\] must be a token id/],
      ['/score', { samples: [{ prompt: 'p', completion: 'c', row: 'x' }] }, 400, /^samples\[0\]\.row must be a JSON object/],
      ['/score', { samples: [], iteration: 1.5 }, 400, /^iteration must be a whole number/],
      ['/get_reward', { prompts: ['p'] }, 400, /^query is missing/],
      ['/get_reward', { query: ['p1'] }, 400, /^prompts is missing/],
      ['/get_reward', { query: ['a', 'b'], prompts: ['a'] }, 400, /^prompts has 1 entries but query has 2/],
      ['/get_reward', { query: ['a'], prompts: ['a'], labels: ['x', 'y'] }, 400, /^labels has 2 entries but query has 1/],
      ['/get_reward', { query: [7], prompts: ['a'] }, 400, /^query\[0\] must be a string/],
      ['/score', 'x'.repeat(64 * 1024 * 1024 + 1), 413, /over 67108864 bytes/],
      ['/nowhere', {}, 404, /POST \/score, POST \/get_reward/],
    ];
    for (const [path, body, status, message] of refusals) {
      const r = await post(`${server.url}${path}`, body);
      assert.equal(r.status, status, `${path} ${String(JSON.stringify(body)).slice(0, 80)}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.error, message);
    }
    const get = await fetch(`${server.url}/score`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');

    const ok = await post(`${server.url}/score`, { samples: [{ prompt: 'p', completion: '3' }] });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.total, [2 * 3 + 2 * 10 + 0]);
  });

  test('SIGTERM exits 0 and leaves no reward worker or bundle', async () => {
    const workers = childrenOf(server.child.pid!);
    assert.ok(workers.length >= 2, `expected reward workers under the server, found ${workers.length}`);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr());
    await assertAllGone(workers);
    assert.deepEqual(readdirSync(server.tmp), [], 'the compiled reward bundles are removed');
  });
});

describe('serving reward files that change, with --reward and --label-field', () => {
  let root: string;
  let server: Served;
  const liveFile = () => join(root, 'live.reward.ts');
  // "none" is a completion no function of this workspace scores: two return null, one throws.
  const live = (n: number) => `export function live(s: { completion: string }): number | null { return s.completion === 'none' ? null : ${n}; }\n`;
  const scoreLive = async () => {
    const r = await post(`${server.url}/score`, { samples: [{ prompt: 'p', completion: 'c' }] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.functions.find((f: { name: string }) => f.name === 'live') as { values: number[]; version: string };
  };
  before(async () => {
    root = workspace({
      'live.reward.ts': live(1),
      'slow.reward.ts': `export async function slow(s: { completion: string; row: { delay_ms?: number } }): Promise<number> {
        if (s.completion === 'none') throw new Error('nothing to score');
        await new Promise((r) => setTimeout(r, s.row.delay_ms ?? 0));
        return s.row.delay_ms ?? 0;
      }\n`,
      'batch.reward.ts': `import { batched } from 'grpo-studio/reward';
        export const batchSize = batched((samples) => samples.map((s) => (s.completion === 'none' ? null : samples.length)));\n`,
    });
    server = await serve(root, ['--reward', 'live.reward.ts', '--reward', 'slow.reward.ts', '--reward', 'batch.reward.ts', '--label-field', 'delay_ms']);
  });
  after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    rmSync(server.tmp, { recursive: true, force: true });
  });

  test('OpenRLHF: labels go in the --label-field column; a query no function scores gets 0', async () => {
    const a = await post(`${server.url}/get_reward`, { query: ['p: x', 'p: none'], prompts: ['p: ', 'p: '], labels: [5, 7] });
    assert.equal(a.status, 200, JSON.stringify(a.json));
    // live 1 + slow (the label, read as row.delay_ms) 5 + batchSize 2; then null, threw, null.
    assert.deepEqual(a.json.rewards, [1 + 5 + 2, 0]);
    assert.deepEqual(a.json.extra_logs.reward_failures, [0, 1]);
  });

  test('an edit takes effect at the next request; one that does not compile keeps the last good version, said once', async () => {
    const first = await scoreLive();
    assert.deepEqual(first.values, [1]);

    writeFileSync(liveFile(), live(2));
    const second = await scoreLive();
    assert.deepEqual(second.values, [2]);
    assert.notEqual(second.version, first.version);
    assert.match(server.stderr(), /live\.reward\.ts: reloaded, now version/);

    writeFileSync(liveFile(), 'export function live(): number { return 3 +; }\n');
    for (let i = 0; i < 3; i++) assert.deepEqual((await scoreLive()).values, [2], 'the last good version scores');
    const refusals = server.stderr().match(/live\.reward\.ts: not reloaded: live\.reward\.ts:1:/g) ?? [];
    assert.equal(refusals.length, 1, server.stderr());

    writeFileSync(liveFile(), live(4));
    assert.deepEqual((await scoreLive()).values, [4]);
  });

  test('concurrent /score requests are scored one by one: a batched reward sees exactly its own request', async () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8];
    const answers = await Promise.all(
      sizes.map((n) => post(`${server.url}/score`, { samples: Array.from({ length: n }, (_, j) => ({ prompt: 'p', completion: `c${j}` })) })),
    );
    answers.forEach((a, k) => {
      assert.equal(a.status, 200, JSON.stringify(a.json));
      assert.deepEqual(a.json.functions.find((f: { name: string }) => f.name === 'batchSize').values, new Array(sizes[k]).fill(sizes[k]));
    });
  });

  test('SIGTERM while a request is scored lets it answer, then exits 0 and leaves no reward worker or bundle', async () => {
    // Longer than the server's grace for writing answers after the last call: only waiting for the call itself answers it.
    const slow = post(`${server.url}/score`, { samples: [{ prompt: 'p', completion: 'c', row: { delay_ms: 3000 } }] });
    await new Promise((r) => setTimeout(r, 500));
    const workers = childrenOf(server.child.pid!);
    assert.ok(workers.length >= 2, `expected reward workers under the server, found ${workers.length}`);
    server.child.kill('SIGTERM');
    const answer = await slow;
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(answer.json.functions.find((f: { name: string }) => f.name === 'slow').values, [3000]);
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr());
    await assertAllGone(workers);
    assert.deepEqual(readdirSync(server.tmp), [], 'the compiled reward bundles are removed');
  });
});

test('serve-rewards refuses to start without rewards, with both sources, or with a bad port', () => {
  const none = grpo('serve-rewards');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /give --config FILE \(a training config\) or --reward FILE/);
  const both = grpo('serve-rewards', '--config', 'grpo.config.json', '--reward', EXACT_ANSWER);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give --config or --reward, not both/);
  const port = grpo('serve-rewards', '--reward', EXACT_ANSWER, '--port', '70000');
  assert.equal(port.code, 1);
  assert.match(port.stderr, /--port must be in 0\.\.65535/);
});
