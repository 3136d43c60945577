// When the engine runs out of memory anyway (the plan is an estimate; other programs share the
// machine), the user gets the phase, the sizes and what to change, not "RuntimeError:
// Aborted()". The wasm backend reports a full heap in several ways, all fatal to its instance:
// an abort, an out-of-bounds access from a failed allocation, a heap that cannot grow.
import { UserError } from '../errors';

const WASM_OUT_OF_MEMORY = /memory access out of bounds|Aborted\(|Cannot enlarge memory|out of memory|Out of memory|Array buffer allocation failed|Invalid typed array length/;

/** Whether an error's text, as another thread reported it, is the wasm backend running out of memory. */
export function isOutOfMemoryText(text: string): boolean {
  return WASM_OUT_OF_MEMORY.test(text);
}

export function isOutOfMemory(e: unknown): boolean {
  return e instanceof Error && !(e instanceof UserError) && (e instanceof RangeError || e.constructor.name === 'RuntimeError' || /memory/i.test(e.message)) && WASM_OUT_OF_MEMORY.test(e.message);
}

/**
 * Runs `fn`; an out-of-memory failure inside it becomes a UserError naming `phase`, what it
 * held (`sizes`) and the fix. Checkpoints are written atomically, so the run folder is intact
 * and resumes from its newest checkpoint.
 */
export async function inPhase<T>(phase: string, sizes: () => string, fix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isOutOfMemory(e)) throw e;
    throw new UserError(
      `out of memory while ${phase} (${sizes()}): ${(e as Error).message.split('\n')[0].replace(/\.+$/, '')}. ${fix}. ` +
        'The run folder is intact: its newest checkpoint resumes it with grpo train --resume RUN_DIR --memory_budget_mb N',
    );
  }
}
