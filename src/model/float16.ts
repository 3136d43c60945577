// IEEE 754 half precision (float16) from and to float32, for model files that store F16
// (safetensors checkpoints read, GGUF files written for llama.cpp rollouts).

/** The float16 bit pattern nearest to a float32 (round to nearest, ties to even); NaN stays NaN. */
export function float32BitsToFloat16(f32Bits: number): number {
  const sign = (f32Bits >>> 16) & 0x8000;
  const exponent = (f32Bits >>> 23) & 0xff;
  let mantissa = f32Bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (halfExponent <= 0) {
    // Subnormal half (or zero): the value is mantissa * 2^-24 with the implicit bit made explicit.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let half = mantissa >>> shift;
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, up to infinity, as IEEE rounding should.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** `data` as float16 bit patterns, into `out` (same length). */
export function toFloat16(data: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < data.length; i++) out[i] = float32BitsToFloat16(bits[i]);
}

let f16TableCache: Float32Array | undefined;

/** float32 value of every IEEE half bit pattern; 256 KiB, built on first use. */
export function float16Table(): Float32Array {
  if (f16TableCache !== undefined) return f16TableCache;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: mantissa * 2^-24, exact in float32.
      table[h] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 31) {
      // Infinity or NaN; the NaN payload moves to the top of the float32 mantissa.
      bits[h] = sign | 0x7f800000 | (mantissa << 13);
    } else {
      bits[h] = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
    }
  }
  f16TableCache = table;
  return table;
}
