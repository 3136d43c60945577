// A long training run in this process, watched for leaks: after a warm-up it samples the
// TF.js tensor count, resident memory, the WebAssembly heap, open file descriptors, threads
// and child processes (reward workers), and fails if any of them grows.
//
//   node --import tsx scripts/long-run.ts [--iterations 500] [--warmup 50] [--every 10]
//     [--config examples/demo/grpo.config.json] [--rss-growth-mb 40] [--json FILE]
//
// The run folder goes to a temporary folder, removed at the end. Exit status 0: every bound
// held; 1: one did not (the table says which).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTrainingConfig } from '../src/trainer/config';
import { Trainer } from '../src/trainer/trainer';
import { sampleResources as sample, type ResourceSample as Sample } from '../test/helpers/resource-sample';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '50' },
    every: { type: 'string', default: '10' },
    config: { type: 'string', default: join(__dirname, '..', 'examples', 'demo', 'grpo.config.json') },
    'rss-growth-mb': { type: 'string', default: '40' }, // bound on resident growth after warm-up; 17 MB measured over 500 demo iterations
    json: { type: 'string' },
  },
});
const iterations = Number(args.iterations);
const warmup = Number(args.warmup);
const every = Number(args.every);
const rssBoundMb = Number(args['rss-growth-mb']);

async function main(): Promise<number> {
  const configFile = resolve(args.config!);
  const out = mkdtempSync(join(tmpdir(), 'grpo-long-run-'));
  const config = { ...(await loadTrainingConfig(configFile)), num_iterations: iterations, output_dir: out };
  const trainer = await Trainer.create(config, { workspaceRoot: dirname(configFile) });
  const samples: Sample[] = [];
  const started = performance.now();
  // Sampled as an iteration starts: the previous one's writes and checkpoint are done by then.
  trainer.on((e) => {
    if (e.type === 'finished') samples.push(sample(e.iteration)); // before close() frees the model
    if (e.type !== 'iteration-started') return;
    const done = e.iteration - 1;
    if (done >= warmup && (done - warmup) % every === 0) samples.push(sample(done));
    if (done > 0 && done % 50 === 0) process.stderr.write(`iteration ${done}/${iterations}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  });
  try {
    await trainer.train();
  } finally {
    await trainer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  rmSync(out, { recursive: true, force: true });
  if (args.json) writeFileSync(args.json, JSON.stringify({ iterations, warmup, every, seconds, samples }, null, 2) + '\n');
  return report(samples, seconds);
}

/** Prints first/min/max/last per quantity after warm-up, checks the bounds, and gives the exit status. */
function report(samples: Sample[], seconds: number): number {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const range = (k: keyof Sample) => {
    const v = samples.map((s) => s[k]);
    return { first: first[k], min: Math.min(...v), max: Math.max(...v), last: last[k] };
  };
  // Resident memory drifts with the allocator; a leak shows as growth from the first half's
  // peak to the second half's, and as total growth past the bound.
  const half = Math.floor(samples.length / 2);
  const firstHalfPeak = Math.max(...samples.slice(0, half).map((s) => s.rssMb));
  const secondHalfPeak = Math.max(...samples.slice(half).map((s) => s.rssMb));
  const checks: [string, boolean, string][] = [
    ['tensors flat', range('tensors').min === range('tensors').max, `${range('tensors').min}..${range('tensors').max}`],
    ['fds not growing', last.fds <= first.fds, `${first.fds} -> ${last.fds} (max ${range('fds').max})`],
    ['threads not growing', last.threads <= first.threads, `${first.threads} -> ${last.threads} (max ${range('threads').max})`],
    ['child processes not growing', last.children <= first.children, `${first.children} -> ${last.children} (max ${range('children').max})`],
    [`rss within ${rssBoundMb} MB of warm-up`, range('rssMb').max - first.rssMb <= rssBoundMb, `${first.rssMb.toFixed(1)} MB -> max ${range('rssMb').max.toFixed(1)} MB, last ${last.rssMb.toFixed(1)} MB; half peaks ${firstHalfPeak.toFixed(1)} / ${secondHalfPeak.toFixed(1)} MB`],
  ];
  const heap = range('heapUsedMb');
  const wasm = range('wasmHeapMb');
  process.stdout.write(
    `${last.iteration} iterations in ${seconds.toFixed(0)} s (${(seconds / last.iteration).toFixed(2)} s/it); ${samples.length} samples from iteration ${first.iteration}\n` +
      `  JS heap used ${heap.first.toFixed(1)} -> ${heap.last.toFixed(1)} MB (max ${heap.max.toFixed(1)}); wasm heap ${wasm.first.toFixed(1)} -> ${wasm.last.toFixed(1)} MB (max ${wasm.max.toFixed(1)})\n` +
      checks.map(([name, ok, figures]) => `  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${figures}\n`).join(''),
  );
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`long run failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
