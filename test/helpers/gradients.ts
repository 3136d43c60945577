import assert from 'node:assert/strict';

/** Every gradient of `got` within 1e-4 of the largest value of the same gradient in `want`. */
export function assertGradientsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, what: string): void {
  for (const [name, g] of want) {
    const o = got.get(name)!;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < g.length; i++) {
      worst = Math.max(worst, Math.abs(o[i] - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    assert.ok(worst <= 1e-4 * Math.max(scale, 1e-6), `${what}: ${name} gradients differ by ${worst} (largest ${scale})`);
  }
}
