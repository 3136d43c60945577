// What a leak would grow, read from this process: TF.js tensors, resident memory, the
// WebAssembly heap, open file descriptors, threads and child processes (reward workers).
import { readdirSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { wasmHeapBytes } from '../../src/engine/memory-probe';

export interface ResourceSample {
  iteration: number;
  tensors: number;
  rssMb: number;
  heapUsedMb: number;
  wasmHeapMb: number;
  fds: number;
  threads: number;
  children: number;
}

const mb = (bytes: number) => bytes / 1048576;

/** Processes whose parent is this one. */
export function childProcesses(): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) n++;
    } catch {
      // the process ended while we looked
    }
  }
  return n;
}

export function sampleResources(iteration: number): ResourceSample {
  const mem = process.memoryUsage();
  return {
    iteration,
    tensors: tf.memory().numTensors,
    rssMb: mb(mem.rss),
    heapUsedMb: mb(mem.heapUsed),
    wasmHeapMb: mb(wasmHeapBytes() ?? 0),
    fds: readdirSync('/proc/self/fd').length,
    threads: readdirSync('/proc/self/task').length,
    children: childProcesses(),
  };
}
