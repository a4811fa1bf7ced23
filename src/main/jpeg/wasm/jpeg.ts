// AssemblyScript, not TypeScript: `npm run build:wasm` compiles it to WebAssembly and writes
// src/main/jpeg/jpeg-kernels.wasm.ts (checked by `npm test`). The inner loops of the
// import's JPEG fast path (src/main/jpeg/jpeg-eighth.ts and fast-jpeg.ts):
//  - `scan`: the entropy-decoding loop: each block's DC difference, AC symbols skipped several at
//    a time, with a 64-bit bit buffer refilled whole bytes at a time (Giesen's refill). It is no
//    faster than the JavaScript loop it replaced (the chain of dependent peek → look-up → consume
//    steps sets the speed either way); it is here so the DC planes stay in this memory for
//    `dequantise`.
//  - `dequantise`, `resampleRows`, `resampleColumns`: the 1×1 IDCT and the separable Lanczos-3
//    resample in 16-bit fixed point with SIMD, several times faster than float64 JavaScript.
// Memory is laid out by the caller from `heapBase()` up (jpeg-kernels.ts); nothing here allocates.

/** Where the caller may start placing its data. */
export function heapBase(): usize {
  return __heap_base
}

// WINDOW (bits of lookahead of the multi-symbol AC tables), DESCRIPTOR (a component descriptor's
// byte size) and the scan results: one definition with the TypeScript side (../constants.json).
import { DESCRIPTOR, SCAN_BAD_CODE, SCAN_BAD_RESTART, SCAN_OK, SCAN_OVERRUN, SCAN_TRUNCATED, WINDOW } from './constants'

/**
 * Decodes one interleaved baseline scan. `data` holds the entropy-coded bytes without stuffing
 * (`limitBytes` of them, then at least 64 zero bytes); `restarts` the byte offsets where restart
 * intervals begin. Each component descriptor (at `comps + c × 32`) holds, as i32: h, v, DC table,
 * AC table, multi-symbol AC table, plane, plane stride (in samples), DC predictor scratch. Tables
 * are u16: 16-bit lookahead → (length << 8) | symbol, and WINDOW-bit lookahead → bits | advanced
 * << 5 | end-of-block << 12. Planes receive each block's DC value as i16.
 *
 * Returns SCAN_OK, or why the data cannot be decoded (SCAN_*).
 */
export function scan(
  data: usize,
  limitBytes: i32,
  restarts: usize,
  restartCount: i32,
  restartInterval: i32,
  mcuX: i32,
  mcuY: i32,
  comps: usize,
  nComps: i32
): i32 {
  const total = mcuX * mcuY
  const limitBits = (<i64>limitBytes) << 3
  let ptr = data
  let buf: u64 = 0
  let count: u64 = 0
  let nextRestart = 0
  let mx = 0
  let my = 0
  for (let c = 0; c < nComps; c++) store<i32>(comps + c * DESCRIPTOR, 0, 28)
  for (let mcu = 0; mcu < total; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0) {
      if (nextRestart >= restartCount) return SCAN_BAD_RESTART
      const at = load<i32>(restarts + (<usize>nextRestart << 2))
      nextRestart++
      if ((<i64>(ptr - data) << 3) - <i64>count > (<i64>at << 3)) return SCAN_BAD_RESTART
      ptr = data + <usize>at
      buf = 0
      count = 0
      for (let c = 0; c < nComps; c++) store<i32>(comps + c * DESCRIPTOR, 0, 28)
    }
    if ((<i64>(ptr - data) << 3) - <i64>count > limitBits) return SCAN_TRUNCATED
    for (let c = 0; c < nComps; c++) {
      const d = comps + c * DESCRIPTOR
      const ch = load<i32>(d, 0)
      const cv = load<i32>(d, 4)
      const dc = <usize>load<i32>(d, 8)
      const ac = <usize>load<i32>(d, 12)
      const multi = <usize>load<i32>(d, 16)
      const plane = <usize>load<i32>(d, 20)
      const stride = load<i32>(d, 24)
      let p = load<i32>(d, 28)
      for (let by = 0; by < cv; by++) {
        const rowBase = (my * cv + by) * stride + mx * ch
        for (let bx = 0; bx < ch; bx++) {
          // Refill to 56–63 bits: whole bytes below the ones held (Giesen's branch-free refill).
          buf |= bswap<u64>(load<u64>(ptr)) >> count
          ptr += <usize>((63 - count) >> 3)
          count |= 56
          // DC: code (≤ 16 bits) and difference (≤ 11 bits).
          const e = <u64>load<u16>(dc + <usize>((buf >> 48) << 1))
          if (e == 0) return SCAN_BAD_CODE
          let len = e >> 8
          buf <<= len
          count -= len
          const s = e & 15
          if (s != 0) {
            const bits = <i32>(buf >> (64 - s))
            const half = 1 << (<i32>s - 1)
            p += bits < half ? bits - (half << 1) + 1 : bits
            buf <<= s
            count -= s
          }
          store<i16>(plane + (<usize>(rowBase + bx) << 1), <i16>p)
          // AC: skipped. A multi-symbol lookup takes ≤ WINDOW bits, a single symbol ≤ 26.
          let k = 1
          while (k < 64) {
            if (count < 26) {
              buf |= bswap<u64>(load<u64>(ptr)) >> count
              ptr += <usize>((63 - count) >> 3)
              count |= 56
            }
            const me = <i32>load<u16>(multi + <usize>((buf >> (64 - WINDOW)) << 1))
            const advanced = (me >> 5) & 127
            if (me != 0 && k + advanced <= 63) {
              len = <u64>(me & 31)
              buf <<= len
              count -= len
              if (me & 4096) break
              k += advanced
              continue
            }
            const se = <i32>load<u16>(ac + <usize>((buf >> 48) << 1))
            if (se == 0) return SCAN_BAD_CODE
            const sym = se & 0xff
            len = <u64>((se >> 8) + (sym & 15))
            buf <<= len
            count -= len
            if (sym == 0) break
            k += sym == 0xf0 ? 16 : (sym >> 4) + 1
          }
          if (k > 64) return SCAN_OVERRUN
        }
      }
      store<i32>(d, p, 28)
    }
    if (++mx == mcuX) {
      mx = 0
      my++
    }
  }
  return (<i64>(ptr - data) << 3) - <i64>count > limitBits ? SCAN_TRUNCATED : SCAN_OK
}

/**
 * libjpeg's 1×1 inverse DCT for `n` blocks: clamp(((dc × q + 4) >> 3) + 128) into u8. `src` (i16)
 * and `dst` must have room for `n` rounded up to a multiple of 8.
 */
export function dequantise(src: usize, dst: usize, n: i32, q: i32): void {
  const qv = i32x4.splat(q)
  const four = i32x4.splat(4)
  const mid = i32x4.splat(128)
  for (let i = 0; i < n; i += 8) {
    const v = v128.load(src + (<usize>i << 1))
    const lo = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(v), qv), four), 3), mid)
    const hi = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(v), qv), four), 3), mid)
    const words = i16x8.narrow_i32x4_s(lo, hi)
    v128.store_lane<i64>(dst + <usize>i, i8x16.narrow_i16x8_u(words, words), 0)
  }
}

/**
 * Horizontal pass: for `rows` rows of u8 samples (`src`, rows `stride` bytes apart), output x is
 * Σ src[start[x] + t] × weight[x][t] over `taps` taps (a multiple of 8; weights i16 in 1/16384,
 * zero past the real taps; up to `taps` bytes past a row's last read are read and must exist).
 * Writes i16 in 1/64 of a level to `dst`, rows `dstStride` samples apart.
 */
export function resampleRows(src: usize, stride: i32, rows: i32, ow: i32, starts: usize, weights: usize, taps: i32, dst: usize, dstStride: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>(r * stride)
    const out = dst + (<usize>(r * dstStride) << 1)
    for (let x = 0; x < ow; x++) {
      const s = row + <usize>load<i32>(starts + (<usize>x << 2))
      const w = weights + (<usize>(x * taps) << 1)
      let acc = i32x4.splat(0)
      for (let t = 0; t < taps; t += 8) {
        acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load8x8_u(s + <usize>t), v128.load(w + (<usize>t << 1))))
      }
      const sum = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3)
      store<i16>(out + (<usize>x << 1), <i16>((sum + 128) >> 8))
    }
  }
}

/**
 * Vertical pass: output row y is Σ mid[start[y] + t] × weight[y][t] over `taps` taps (i16 weights
 * in 1/16384) of the i16 rows of `mid` (1/64 of a level, `midStride` samples apart), rounded and
 * clamped to u8. Works on `width8` columns (a multiple of 8; mid rows must be that wide).
 */
export function resampleColumns(mid: usize, midStride: i32, oh: i32, starts: usize, weights: usize, taps: i32, dst: usize, dstStride: i32, width8: i32): void {
  const round = i32x4.splat(1 << 19)
  for (let y = 0; y < oh; y++) {
    const first = load<i32>(starts + (<usize>y << 2))
    const wy = weights + (<usize>(y * taps) << 1)
    const out = dst + <usize>(y * dstStride)
    for (let i = 0; i < width8; i += 8) {
      let lo = round
      let hi = round
      let m = mid + (<usize>(first * midStride + i) << 1)
      for (let t = 0; t < taps; t++) {
        const w = i16x8.splat(load<i16>(wy + (<usize>t << 1)))
        const v = v128.load(m)
        lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(v, w))
        hi = i32x4.add(hi, i32x4.extmul_high_i16x8_s(v, w))
        m += <usize>midStride << 1
      }
      const words = i16x8.narrow_i32x4_s(i32x4.shr_s(lo, 20), i32x4.shr_s(hi, 20))
      v128.store_lane<i64>(out + <usize>i, i8x16.narrow_i16x8_u(words, words), 0)
    }
  }
}
