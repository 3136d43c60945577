// Loading llama.cpp through node-llama-cpp, an optional dependency with prebuilt CPU, CUDA,
// Vulkan and Metal binaries on npm. Where it is not installed or its binary does not load,
// callers get the reason and generate with tfjs instead.
import type { Llama } from 'node-llama-cpp';

export type NativeLlama = Llama;

let loading: Promise<Llama | string> | undefined;

/**
 * The llama.cpp library, loaded once per process, or why it cannot load. `build: 'never'`:
 * a missing prebuilt binary falls back rather than compiling llama.cpp on the user's machine.
 * CPU only for now: a GPU would hold the weights the update is changing (see DESIGN.md).
 */
export function loadLlamaCpp(): Promise<Llama | string> {
  loading ??= (async () => {
    try {
      const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
      return await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
    } catch (e) {
      const message = (e as Error).message?.split('\n')[0] ?? String(e);
      return /Cannot find (module|package)/.test(message)
        ? 'node-llama-cpp is not installed next to GRPO Studio (npm installs it as an optional dependency; the VS Code package does not carry it yet)'
        : `node-llama-cpp did not load: ${message}`;
    }
  })();
  return loading;
}
