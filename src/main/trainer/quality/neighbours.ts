import { downscale, mirrored, type ImageSet } from './images'

/**
 * Distances between images for variety, memorisation and "nearest training images": the RMS
 * difference of the images box-downscaled to 16 × 16 px, in [-1, 1] units. At that scale a
 * distance measures layout and colour; pixel-level speckle (checkerboard artefacts, noise) is
 * averaged away, so noisy copies of one picture still count as one picture.
 */
export const LAYOUT_SIZE = 16
export const LAYOUT_DIM = LAYOUT_SIZE * LAYOUT_SIZE * 3

/** `count × LAYOUT_DIM` layout vectors. */
export function layoutVectors(set: ImageSet): Float32Array {
  return set.resolution === LAYOUT_SIZE ? set.data.slice() : downscale(set, LAYOUT_SIZE).data
}

function squared(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number, stopAbove = Infinity): number {
  let s = 0
  const ao = ai * dim
  const bo = bi * dim
  for (let k = 0; k < dim; k += 48) {
    const end = Math.min(dim, k + 48)
    for (let j = k; j < end; j++) {
      const d = a[ao + j]! - b[bo + j]!
      s += d * d
    }
    if (s > stopAbove) return s
  }
  return s
}

/** Mean RMS distance over all pairs of distinct rows (null with fewer than two). */
export function meanPairwiseDistance(vectors: Float32Array, count: number, dim = LAYOUT_DIM): number | null {
  if (count < 2) return null
  let sum = 0
  for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) sum += Math.sqrt(squared(vectors, i, vectors, j, dim) / dim)
  return sum / ((count * (count - 1)) / 2)
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export interface Neighbour {
  /** Index of the training image in the set the index was built from. */
  image: number
  /** The match is the training image mirrored left–right (training flips images). */
  mirrored: boolean
  /** RMS distance at 16 × 16 px, in [-1, 1] units. */
  distance: number
}

/** Nearest training images (and their mirror images) for any image, by layout distance. */
export class NearestIndex {
  readonly count: number
  private readonly vectors: Float32Array

  /** `layout`: `count × LAYOUT_DIM` layout vectors of the training images (see `layoutVectors`). */
  constructor(layout: Float32Array, count: number) {
    this.count = count
    const plain = layout.subarray(0, count * LAYOUT_DIM)
    const flipped = mirrored({ data: plain, count, resolution: LAYOUT_SIZE }).data
    this.vectors = new Float32Array(plain.length * 2)
    this.vectors.set(plain, 0)
    this.vectors.set(flipped, plain.length)
  }

  /** The layout vector of training image `i`. */
  vector(i: number): Float32Array {
    return this.vectors.subarray(i * LAYOUT_DIM, (i + 1) * LAYOUT_DIM)
  }

  /**
   * The `k` nearest training images to one layout vector, nearest first, at most one entry per
   * training image (plain or mirrored, whichever is nearer). `exclude` leaves one image out.
   */
  nearest(query: Float32Array, k: number, exclude = -1): Neighbour[] {
    const best: { entry: number; sq: number }[] = []
    let worst = Infinity
    const entries = this.count * 2
    for (let e = 0; e < entries; e++) {
      const image = e % this.count
      if (image === exclude) continue
      const sq = squared(query, 0, this.vectors, e, LAYOUT_DIM, worst)
      if (best.length >= k * 2 && sq >= worst) continue
      best.push({ entry: e, sq })
      best.sort((a, b) => a.sq - b.sq)
      // Keep twice k so that a plain/mirrored pair of one image cannot crowd others out.
      if (best.length > k * 2) best.length = k * 2
      if (best.length >= k * 2) worst = best[best.length - 1]!.sq
    }
    const out: Neighbour[] = []
    const seen = new Set<number>()
    for (const b of best) {
      const image = b.entry % this.count
      if (seen.has(image)) continue
      seen.add(image)
      out.push({ image, mirrored: b.entry >= this.count, distance: Math.sqrt(b.sq / LAYOUT_DIM) })
      if (out.length === k) break
    }
    return out
  }

  /** Median distance from the given training images to their nearest other training image. */
  typicalNearestDistance(sample: ArrayLike<number>): number | null {
    const d: number[] = []
    for (let i = 0; i < sample.length; i++) {
      const img = sample[i]!
      const n = this.nearest(this.vector(img), 1, img)[0]
      if (n) d.push(n.distance)
    }
    return median(d)
  }
}
