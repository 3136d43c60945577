// Resident memory of another process, for the reward processes' memory bound. V8's heap limit
// stops a reward that fills the JavaScript heap, but not one that allocates buffers
// (ArrayBuffer, Buffer), which live outside it; the resident size counts both.

import { readFileSync } from 'node:fs';

/** Resident memory of `pid` in MB, or undefined where the system does not tell (not Linux, or the process is gone). */
export function residentMb(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // VmRSS is in kB whatever the page size (statm counts pages, 4K or 64K by kernel).
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}
