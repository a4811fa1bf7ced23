import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { resamplePlane } from '../../../src/main/jpeg/fast-jpeg'
import { decodeJpegEighth } from '../../../src/main/jpeg/jpeg-eighth'
import { JpegKernels } from '../../../src/main/jpeg/jpeg-kernels'
import { dcOnlyJpeg, type WriterOptions } from './jpeg-writers'

/**
 * The WebAssembly kernels (src/main/jpeg/wasm/jpeg.ts) and the DC decoding against plain definitions: the
 * 1×1 IDCT formula, a floating-point Lanczos-3, and JPEGs written here with restart intervals and
 * progressive DC scans of every kind (successive approximation, one component at a time), which
 * sharp (mozjpeg) cannot be asked to write.
 */

function lanczos3(x: number): number {
  if (x === 0) return 1
  if (x <= -3 || x >= 3) return 0
  const px = Math.PI * x
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px)
}

/** Reference: the same separable Lanczos-3 in float64, rounded once at the end. */
function referenceResample(data: Uint8Array, w: number, h: number, x0: number, y0: number, sw: number, sh: number, ow: number, oh: number): Uint8Array {
  const axis = (size: number, offset: number, span: number, out: number): { lo: number; weights: number[] }[] => {
    const scale = out / span
    const stretch = Math.max(1, 1 / scale)
    return Array.from({ length: out }, (_, i) => {
      const centre = offset + (i + 0.5) / scale - 0.5
      const lo = Math.max(0, Math.ceil(centre - 3 * stretch))
      const hi = Math.min(size - 1, Math.floor(centre + 3 * stretch))
      const raw = Array.from({ length: hi - lo + 1 }, (_, t) => lanczos3((lo + t - centre) / stretch))
      const sum = raw.reduce((a, b) => a + b, 0)
      return { lo, weights: raw.map((v) => v / sum) }
    })
  }
  const ax = axis(w, x0, sw, ow)
  const ay = axis(h, y0, sh, oh)
  const out = new Uint8Array(ow * oh)
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let v = 0
      ay[y]!.weights.forEach((wy, ty) => {
        let row = 0
        ax[x]!.weights.forEach((wx, tx) => (row += data[(ay[y]!.lo + ty) * w + ax[x]!.lo + tx]! * wx))
        v += row * wy
      })
      out[y * ow + x] = Math.max(0, Math.min(255, Math.round(v)))
    }
  }
  return out
}

function noisePlane(w: number, h: number, seed: number): Uint8Array {
  let s = seed
  return Uint8Array.from({ length: w * h }, (_, i) => {
    s = (s * 1103515245 + 12345) >>> 0
    // a gradient with texture and some hard edges: negative lobes and overshoot get exercised
    return Math.max(0, Math.min(255, ((i % w) * 3 + Math.floor(i / w)) % 256 + ((s >>> 24) % 61) - 30 + ((i % w) % 17 < 3 ? 90 : 0)))
  })
}

describe('resample kernel (WebAssembly SIMD, 16-bit fixed point)', () => {
  const cases: [string, number, number, number, number, number, number, number, number][] = [
    ['luma 1/8 of 2000×1500, centre crop → 64', 250, 188, 31, 0, 188, 188, 64, 64],
    ['chroma grid, fractional offset → 64', 125, 94, 15.5, 0, 94, 94, 64, 64],
    ['stretch to 32, unequal axes', 250, 188, 0, 0, 250, 188, 32, 32],
    ['pad: width not a multiple of 8', 90, 60, 0, 0, 90, 60, 43, 29],
    ['upscale (small plane → 40)', 20, 12, 0, 0, 20, 12, 40, 24],
    ['very large reduction (1/8 of 6000 px → 32)', 750, 500, 125, 0, 500, 500, 32, 32]
  ]
  it.each(cases)('%s: within one level of float64 Lanczos-3', (_name, w, h, x0, y0, sw, sh, ow, oh) => {
    const plane = noisePlane(w, h, w * 31 + h)
    const got = resamplePlane(plane, w, h, x0, y0, sw, sh, ow, oh)
    const want = referenceResample(plane, w, h, x0, y0, sw, sh, ow, oh)
    expect(got.length).toBe(ow * oh)
    let worst = 0
    let sum = 0
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - want[i]!)
      worst = Math.max(worst, d)
      sum += d
    }
    expect(worst).toBeLessThanOrEqual(1)
    expect(sum / got.length).toBeLessThan(0.2)
  })

  it('keeps a flat plane exactly flat (weights sum to one in fixed point)', () => {
    for (const level of [0, 1, 128, 254, 255]) {
      const out = resamplePlane(new Uint8Array(125 * 94).fill(level), 125, 94, 15.5, 0, 94, 94, 64, 64)
      expect(new Set(out)).toEqual(new Set([level]))
    }
  })

  it('reads rows with a stride wider than the plane', () => {
    const w = 60
    const h = 40
    const plane = noisePlane(w, h, 5)
    const wide = new Uint8Array(100 * h).fill(255)
    for (let y = 0; y < h; y++) wide.set(plane.subarray(y * w, (y + 1) * w), y * 100)
    expect(resamplePlane(wide, w, h, 0, 0, w, h, 24, 16, 100)).toEqual(resamplePlane(plane, w, h, 0, 0, w, h, 24, 16))
  })
})

describe('dequantise kernel', () => {
  it('is libjpeg’s 1×1 IDCT, clamped, for every DC value and lengths that are not multiples of 8', () => {
    const k = JpegKernels.get()
    for (const q of [1, 2, 7, 16, 99, 255]) {
      const n = 4099
      const dc = Int16Array.from({ length: n }, (_, i) => -2048 + i)
      k.begin()
      const src = k.put(dc)
      const dst = k.alloc(n)
      k.k.dequantise(src, dst, n, q)
      const got = k.u8().slice(dst, dst + n)
      const want = Uint8Array.from(dc, (v) => Math.max(0, Math.min(255, ((v * q + 4) >> 3) + 128)))
      expect(got).toEqual(want)
    }
  })
})


describe('DC decoding of JPEGs with restart intervals and progressive scans', () => {
  const luma = (bx: number, by: number): number => (bx * 37 + by * 11) % 256
  const blue = (bx: number, by: number): number => (64 + bx * 5 + by) % 256
  const red = (bx: number, by: number): number => (200 - bx * 3 + by * 7 + 256) % 256

  it('the test writer makes JPEGs that libjpeg (sharp) decodes to the intended flat blocks', async () => {
    const jpeg = dcOnlyJpeg(96, 64, [luma], { restartInterval: 5 })
    const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true })
    expect([info.width, info.height]).toEqual([96, 64])
    for (let by = 0; by < 8; by++) for (let bx = 0; bx < 12; bx++) expect(data[(by * 8 + 4) * 96 + bx * 8 + 4]).toBe(luma(bx, by))
  })

  it.each([
    ['greyscale, a restart every 7 blocks', 1, { restartInterval: 7 }],
    ['greyscale, a restart after every block', 1, { restartInterval: 1 }],
    ['4:2:0 colour, a restart every 3 MCUs', 3, { restartInterval: 3 }],
    ['4:2:0 colour, no restarts', 3, {}],
    ['progressive greyscale, 2 refinement bits, restarts', 1, { progressive: { al: 2, interleaved: true }, restartInterval: 5 }],
    ['progressive 4:2:0, interleaved DC scans', 3, { progressive: { al: 1, interleaved: true } }],
    ['progressive 4:2:0, one DC scan per component, restarts', 3, { progressive: { al: 1, interleaved: false }, restartInterval: 4 }],
    ['progressive 4:2:0, no successive approximation', 3, { progressive: { al: 0, interleaved: false } }]
  ] as [string, number, WriterOptions][])('%s: every block’s DC exact', async (_name, components, options) => {
    const width = 200
    const height = 136
    const levels = components === 1 ? [luma] : [luma, blue, red]
    const jpeg = dcOnlyJpeg(width, height, levels, options)
    // libjpeg (through sharp) reads what the writer wrote as intended.
    const { data } = await sharp(jpeg).toColourspace('b-w').extractChannel(0).raw().toBuffer({ resolveWithObject: true })
    if (components === 1) expect(data[(8 * 3 + 4) * width + 8 * 5 + 4]).toBe(luma(5, 3))
    const small = decodeJpegEighth(jpeg)
    if ('declined' in small) throw new Error(small.declined)
    expect([small.width, small.height]).toEqual([25, 17])
    small.planes.forEach((plane, c) => {
      for (let y = 0; y < plane.height; y++) {
        for (let x = 0; x < plane.width; x++) expect(plane.data[y * plane.stride + x], `component ${c} block ${x},${y}`).toBe(levels[c]!(x, y))
      }
    })
  })

  it('declines (never throws) when a restart marker is missing or the data stops early', () => {
    for (const options of [{ restartInterval: 7 }, { restartInterval: 7, progressive: { al: 1, interleaved: false } }]) {
      const good = dcOnlyJpeg(200, 136, [luma], options)
      expect(decodeJpegEighth(dcOnlyJpeg(200, 136, [luma], { ...options, dropRestart: 2 }))).toEqual({ declined: expect.stringMatching(/damaged|restart/) })
      for (const keep of [0.2, 0.5, 0.9, 0.99]) {
        const cut = good.subarray(0, Math.floor(good.length * keep))
        expect(decodeJpegEighth(cut)).toEqual({ declined: expect.stringMatching(/damaged|truncated|ends/) })
      }
    }
  })
})
