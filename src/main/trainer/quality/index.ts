import type { QualityScores } from '@shared/runs'
import { Rng } from '../model/rng'
import { fromUint8, type ImageSet } from './images'
import { FEATURE_DIM, featureStats, kernelDistance, offDiagonalMean, RandomFeatures, standardise } from './features'
import { layoutVectors, LAYOUT_DIM, meanPairwiseDistance, median, NearestIndex } from './neighbours'
import { SwdReference } from './swd'

/**
 * The quality meter: how close generated images are to the training images, measured with
 * nothing downloaded.
 * - `swd`: ProGAN's sliced Wasserstein distance on 7×7 Laplacian-pyramid patches (×1000, lower is better).
 * - `kid`: kernel distance (KID's polynomial-kernel MMD²) between the features of a fixed random conv
 *   net, standardised by the real images' statistics (lower is better; ~0 for the same distribution).
 * - `variety`: mean pairwise distance among the generated images ÷ the same among real images, both
 *   at 16 × 16 px (≈1 healthy; near 0: every seed gives the same picture).
 * - `memorisation`: median distance from a generated image to its nearest training image (or its
 *   mirror image) ÷ the median nearest-neighbour distance within the training images, both at
 *   16 × 16 px (≈1 or more: new pictures; near 0: copies of training images).
 * Everything about the real images is computed once, in `QualityReference`.
 */

export { fromUint8, type ImageSet } from './images'
export { layoutVectors, NearestIndex, type Neighbour } from './neighbours'

export interface QualityOptions {
  /** Generated images per measurement; SWD compares with as many real images (default 64). */
  images?: number
  /** Real images for KID and variety (default 256). */
  realSample?: number
  /** Training images searched for nearest neighbours (default 4,096). */
  nearestPool?: number
  seed?: number
}

export const DEFAULT_QUALITY_IMAGES = 64

/** The training images, read a few at a time (a large dataset as floats would not fit in memory). */
export interface RealImages {
  count: number
  resolution: number
  subset(indices: ArrayLike<number>): ImageSet
}

export function realFromPixels(pixels: Uint8Array, count: number, resolution: number): RealImages {
  return { count, resolution, subset: (idx) => fromUint8(pixels, count, resolution, idx) }
}

export function realFromImages(set: ImageSet): RealImages {
  const size = set.resolution * set.resolution * 3
  return {
    count: set.count,
    resolution: set.resolution,
    subset: (idx) => {
      const data = new Float32Array(idx.length * size)
      for (let k = 0; k < idx.length; k++) data.set(set.data.subarray(idx[k]! * size, (idx[k]! + 1) * size), k * size)
      return { data, count: idx.length, resolution: set.resolution }
    }
  }
}

/** Layout vectors of the chosen training images, 256 images at a time. */
export function layoutInChunks(real: RealImages, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * LAYOUT_DIM)
  for (let start = 0; start < indices.length; start += 256) {
    const idx = Array.from({ length: Math.min(256, indices.length - start) }, (_, k) => indices[start + k]!)
    out.set(layoutVectors(real.subset(idx)), start * LAYOUT_DIM)
  }
  return out
}

/** Statistics of the real images, prepared once per run (a second or two at 64 px). */
export class QualityReference {
  /** How many generated images `measure` expects at most (SWD compares equal counts). */
  readonly images: number
  readonly resolution: number
  private readonly seed: number
  private readonly swd: SwdReference
  private readonly swdReal: ImageSet
  private readonly swdBySize = new Map<number, SwdReference>()
  private readonly net = new RandomFeatures()
  private readonly featureNorm: { mean: Float32Array; scale: number }
  private readonly realFeatures: Float32Array
  private readonly realCount: number
  private readonly realKernelMean: number
  private readonly realVariety: number | null
  private readonly nearest: NearestIndex
  private readonly typicalNearest: number | null

  constructor(real: RealImages, options: QualityOptions = {}) {
    const seed = options.seed ?? 1
    const rng = new Rng(seed)
    const pick = (k: number): Uint32Array => rng.shuffle(real.count).slice(0, Math.min(k, real.count))
    const subset = (idx: ArrayLike<number>): ImageSet => real.subset(idx)
    this.seed = seed
    this.resolution = real.resolution
    this.images = Math.min(options.images ?? DEFAULT_QUALITY_IMAGES, real.count)
    this.swdReal = subset(pick(this.images))
    this.swd = new SwdReference(this.swdReal, { seed })

    // Features and layout vectors of the real sample, 32 images at a time (a 256 px sample as floats would be large).
    const sampleIdx = pick(options.realSample ?? 256)
    this.realCount = sampleIdx.length
    const raw = new Float32Array(sampleIdx.length * FEATURE_DIM)
    const layout = new Float32Array(sampleIdx.length * LAYOUT_DIM)
    for (let start = 0; start < sampleIdx.length; start += 32) {
      const chunk = subset(sampleIdx.subarray(start, start + 32))
      raw.set(this.net.features(chunk), start * FEATURE_DIM)
      layout.set(layoutVectors(chunk), start * LAYOUT_DIM)
    }
    this.featureNorm = featureStats(raw, this.realCount, FEATURE_DIM)
    this.realFeatures = standardise(raw, this.realCount, FEATURE_DIM, this.featureNorm)
    this.realKernelMean = offDiagonalMean(this.realFeatures, this.realCount, FEATURE_DIM)
    this.realVariety = meanPairwiseDistance(layout, this.realCount, LAYOUT_DIM)

    const poolSize = options.nearestPool ?? 4096
    const poolIdx = real.count <= poolSize ? Uint32Array.from({ length: real.count }, (_, i) => i) : pick(poolSize)
    this.nearest = new NearestIndex(layoutInChunks(real, poolIdx), poolIdx.length)
    const probe = new Rng(seed + 7).shuffle(this.nearest.count).slice(0, Math.min(this.nearest.count, 256))
    this.typicalNearest = this.nearest.typicalNearestDistance(probe)
  }

  /** From a dataset cache (`count × res × res × 3` uint8). */
  static fromPixels(pixels: Uint8Array, count: number, resolution: number, options: QualityOptions = {}): QualityReference {
    return new QualityReference(realFromPixels(pixels, count, resolution), options)
  }

  /** From images already in [-1, 1]. */
  static fromImages(set: ImageSet, options: QualityOptions = {}): QualityReference {
    return new QualityReference(realFromImages(set), options)
  }

  /** Scores a set of generated images (at least two, at the reference's resolution). */
  measure(fake: ImageSet): QualityScores {
    if (fake.resolution !== this.resolution) throw new Error(`Generated images are ${fake.resolution} px; the reference is ${this.resolution} px.`)
    if (fake.count < 2) throw new Error('Scoring needs at least two generated images.')
    const count = Math.min(fake.count, this.images)
    const size = this.resolution * this.resolution * 3
    const used: ImageSet = count === fake.count ? fake : { data: fake.data.subarray(0, count * size), count, resolution: this.resolution }
    // SWD compares equal counts: with fewer generated images than the reference holds, the real side is rebuilt to match.
    const swd = count === this.swd.count ? this.swd.score(used).swd : this.swdFor(count).score(used).swd

    const features = standardise(this.net.features(fake), fake.count, FEATURE_DIM, this.featureNorm)
    const kid = kernelDistance(this.realFeatures, this.realCount, features, fake.count, FEATURE_DIM, this.realKernelMean)

    const layout = layoutVectors(fake)
    const spread = meanPairwiseDistance(layout, fake.count, LAYOUT_DIM)
    const variety = spread !== null && this.realVariety ? spread / this.realVariety : null

    const nearest: number[] = []
    for (let i = 0; i < fake.count; i++) {
      const n = this.nearest.nearest(layout.subarray(i * LAYOUT_DIM, (i + 1) * LAYOUT_DIM), 1)[0]
      if (n) nearest.push(n.distance)
    }
    const nn = median(nearest)
    const memorisation = nn !== null && this.typicalNearest ? nn / this.typicalNearest : null
    return { swd, kid, variety, memorisation, count: fake.count }
  }

  private swdFor(count: number): SwdReference {
    let ref = this.swdBySize.get(count)
    if (!ref) {
      const size = this.resolution * this.resolution * 3
      ref = new SwdReference({ data: this.swdReal.data.subarray(0, count * size), count, resolution: this.resolution }, { seed: this.seed })
      this.swdBySize.set(count, ref)
    }
    return ref
  }
}
