/**
 * A small seeded generator (xoshiro128**) whose whole state is four 32-bit words, so it can
 * be saved in a checkpoint and restored exactly. Math.random cannot be seeded or saved.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number | readonly number[]) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      // splitmix32 spreads a small integer seed over the four state words.
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
    } else {
      this.s.set(seed);
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** An independent stream for a (seed, ...path) tuple, e.g. one per prompt and sample. */
  static derive(seed: number, ...path: number[]): Rng {
    let h = seed >>> 0;
    for (const p of path) h = Math.imul(h ^ (p + 0x7f4a7c15), 0x27d4eb2d) >>> 0;
    return new Rng(h);
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  state(): number[] {
    return Array.from(this.s);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
