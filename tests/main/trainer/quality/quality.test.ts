import { describe, expect, it } from 'vitest'
import { Rng } from '../../../../src/main/trainer/model/rng'
import { QualityReference, realFromImages, type ImageSet } from '../../../../src/main/trainer/quality'
import { FEATURE_DIM, RandomFeatures } from '../../../../src/main/trainer/quality/features'
import { downscale, fromUint8, mirrored } from '../../../../src/main/trainer/quality/images'
import { laplacianPyramid, pyramidLevels, SwdReference } from '../../../../src/main/trainer/quality/swd'

/** Discs of random colour, size and place on a light background: a small "dataset" with variety. */
function discs(count: number, r: number, seed: number): ImageSet {
  const rng = new Rng(seed)
  const data = new Float32Array(count * r * r * 3)
  for (let i = 0; i < count; i++) {
    const cx = rng.next() * r
    const cy = rng.next() * r
    const rad = r * (0.15 + 0.25 * rng.next())
    const col = [rng.next() * 2 - 1, rng.next() * 2 - 1, rng.next() * 2 - 1]
    for (let y = 0; y < r; y++)
      for (let x = 0; x < r; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < rad * rad
        const p = (i * r * r + y * r + x) * 3
        for (let c = 0; c < 3; c++) data[p + c] = inside ? col[c]! : 0.9
      }
  }
  return { data, count, resolution: r }
}

function noise(count: number, r: number, seed: number): ImageSet {
  const rng = new Rng(seed)
  return { data: new Float32Array(count * r * r * 3).map(() => rng.next() * 2 - 1), count, resolution: r }
}

function repeat(set: ImageSet, index: number, count: number): ImageSet {
  const size = set.resolution * set.resolution * 3
  const data = new Float32Array(count * size)
  for (let i = 0; i < count; i++) data.set(set.data.subarray(index * size, (index + 1) * size), i * size)
  return { data, count, resolution: set.resolution }
}

const R = 32
const real = discs(240, R, 1)
const ref = QualityReference.fromImages(real, { images: 48, realSample: 160 })
const sameKind = ref.measure(discs(48, R, 2))

describe('image helpers', () => {
  it('downscales by averaging and mirrors left–right', () => {
    const set: ImageSet = { data: new Float32Array(4 * 4 * 3).map((_, i) => i), count: 1, resolution: 4 }
    const half = downscale(set, 2)
    // top-left 2×2 block of channel 0: pixels 0,1,4,5 → values 0,3,12,15
    expect(half.data[0]).toBeCloseTo((0 + 3 + 12 + 15) / 4)
    const m = mirrored(set)
    expect(m.data[0]).toBe(set.data[9]) // pixel (0,0) ← pixel (0,3)
    expect(mirrored(m).data).toEqual(set.data)
    expect(fromUint8(Uint8Array.from([0, 255, 128]), 1, 1).data[1]).toBe(1)
  })

  it('builds a Laplacian pyramid whose levels add back up to the image', () => {
    expect(pyramidLevels(64)).toEqual([64, 32, 16])
    const img = discs(1, 32, 5).data
    const pyr = laplacianPyramid(img, 32)
    expect(pyr.map((l) => l[0]!.length)).toEqual([32 * 32, 16 * 16])
    // A flat image has no detail band.
    const flat = new Float32Array(32 * 32 * 3).fill(0.5)
    const band = laplacianPyramid(flat, 32)[0]!
    expect(Math.max(...band.map((p) => Math.max(...p.map(Math.abs))))).toBeLessThan(1e-5)
  })
})

describe('SWD', () => {
  it('is 0 for identical sets and grows with the difference', () => {
    const a = discs(24, R, 7)
    const swd = new SwdReference(a, { directions: 64, nhoodsPerImage: 32 })
    expect(swd.score(a).swd).toBeCloseTo(0, 6)
    const other = swd.score(discs(24, R, 8)).swd
    const far = swd.score(noise(24, R, 9)).swd
    expect(other).toBeGreaterThan(0)
    expect(far).toBeGreaterThan(3 * other)
  })

  it('refuses sets of different sizes', () => {
    const swd = new SwdReference(discs(8, R, 1), { directions: 8 })
    expect(() => swd.score(discs(9, R, 1))).toThrow(/same size/)
  })

  it('is the same number every time for the same images', () => {
    const a = new SwdReference(discs(8, R, 1), { directions: 16 }).score(discs(8, R, 2)).swd
    const b = new SwdReference(discs(8, R, 1), { directions: 16 }).score(discs(8, R, 2)).swd
    expect(a).toBe(b)
  })
})

describe('random-network features', () => {
  it('are deterministic and distinguish images', () => {
    const set = discs(3, 64, 4)
    const a = new RandomFeatures().features(set)
    const b = new RandomFeatures().features(set)
    expect(a.length).toBe(3 * FEATURE_DIM)
    expect(a).toEqual(b)
    const diff = a.slice(0, FEATURE_DIM).reduce((s, v, i) => s + Math.abs(v - a[FEATURE_DIM + i]!), 0)
    expect(diff).toBeGreaterThan(0)
  })
})

describe('quality meter', () => {
  it('scores images like the dataset as close, and random noise as far', () => {
    const far = ref.measure(noise(48, R, 3))
    expect(sameKind.swd).toBeLessThan(far.swd / 3)
    expect(Math.abs(sameKind.kid)).toBeLessThan(far.kid / 100)
    expect(far.kid).toBeGreaterThan(1)
    expect(far.memorisation!).toBeGreaterThan(2)
    expect(sameKind.variety!).toBeGreaterThan(0.7)
    expect(sameKind.variety!).toBeLessThan(1.3)
    expect(sameKind.memorisation!).toBeGreaterThan(0.5)
    expect(sameKind.count).toBe(48)
  })

  it('gives ~0 SWD and KID for the very images it was built from', () => {
    const set = discs(48, R, 21)
    const self = QualityReference.fromImages(set, { images: 48, realSample: 48 }).measure(set)
    expect(self.swd).toBeLessThan(1e-6)
    // The unbiased estimate of a set against itself is slightly negative: −2(mean k(x,x) − mean k(x,y))/m.
    expect(Math.abs(self.kid)).toBeLessThan(1)
    expect(ref.measure(noise(48, R, 3)).kid).toBeGreaterThan(100 * Math.abs(self.kid))
    expect(self.memorisation).toBe(0)
    expect(self.variety).toBeCloseTo(1, 6)
  })

  it('sees a collapsed set: variety near 0', () => {
    const collapsed = ref.measure(repeat(discs(1, R, 11), 0, 48))
    expect(collapsed.variety!).toBeLessThan(0.02)
    expect(collapsed.swd).toBeGreaterThan(sameKind.swd)
    expect(collapsed.kid).toBeGreaterThan(10 * Math.abs(sameKind.kid))
  })

  it('sees copies of training images (also mirrored): memorisation near 0', () => {
    const copies = realFromImages(real).subset(Array.from({ length: 48 }, (_, i) => 100 + i * 2))
    expect(ref.measure(copies).memorisation!).toBeLessThan(0.01)
    expect(ref.measure(mirrored(copies)).memorisation!).toBeLessThan(0.01)
    expect(ref.measure(copies).variety!).toBeGreaterThan(0.7)
  })

  it('scores fewer images than the reference holds, and refuses a wrong size', () => {
    const few = ref.measure(discs(10, R, 12))
    expect(few.count).toBe(10)
    expect(Number.isFinite(few.swd)).toBe(true)
    expect(() => ref.measure(discs(10, 64, 1))).toThrow(/64 px/)
    expect(() => ref.measure(discs(1, R, 1))).toThrow(/at least two/)
  })
})
