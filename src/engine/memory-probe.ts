import * as tf from '@tensorflow/tfjs-core';

type BufferInfo = { bytes: number };
type EngineState = { tensorInfo: WeakMap<object, BufferInfo> };

/**
 * The high-water mark of tensor memory: the bytes of every live data buffer, on any backend,
 * at their largest since the last `reset`. tf.memory().numBytes is no measure of memory: it
 * adds a tensor's bytes whether or not it shares its buffer with another (a reshape, a
 * clone). The engine keeps one entry per buffer; this counts entries as they come and go,
 * which costs an addition per buffer. On wasm the heap itself is larger by the allocator's
 * overhead and never shrinks: `wasmHeapBytes` gives its size.
 */
export class PeakMemory {
  private live = 0;
  private peak = 0;
  private watched: EngineState | undefined;

  /** Starts a new measurement from the bytes held now. */
  reset(): void {
    this.watch();
    this.peak = this.live;
  }

  /** The largest total since `reset`. */
  get peakBytes(): number {
    return this.peak;
  }

  /** The bytes of the buffers that became live while watched and still are. */
  get liveBytes(): number {
    return this.live;
  }

  private watch(): void {
    const state = (tf.engine() as unknown as { state: EngineState }).state;
    if (this.watched === state) return; // the engine makes a new state when a backend is re-registered
    const map = state.tensorInfo;
    const set = map.set.bind(map);
    const del = map.delete.bind(map);
    map.set = (key: object, info: BufferInfo) => {
      if (!map.has(key)) {
        this.live += info.bytes;
        if (this.live > this.peak) this.peak = this.live;
      }
      return set(key, info);
    };
    map.delete = (key: object) => {
      const info = map.get(key);
      if (info) this.live -= info.bytes;
      return del(key);
    };
    // Buffers made before watching are unknown; count from a baseline of what numBytes says is live.
    this.live = tf.memory().numBytes;
    this.watched = state;
  }
}

/** The wasm backend's heap size in bytes (its high-water mark), or undefined on other backends. */
export function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength;
}
