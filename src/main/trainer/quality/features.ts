import { Rng } from '../model/rng'
import { downscale, type ImageSet } from './images'

/**
 * Features from a fixed, randomly initialised convolutional network (no downloaded weights): the
 * image, box-downscaled to 32 px, goes through four 3×3 conv + ReLU + 2×2 average-pool stages
 * (3 → 16 → 32 → 64 → 128 channels, He-normal weights from a fixed seed, no biases). The features
 * are the spatial means of the first three stages' activations (colour, edges, small textures) and
 * the last stage's activations pooled to 2×2 (coarse layout): 16 + 32 + 64 + 512 = 624 values.
 * The same seed gives the same network on every machine, so scores compare across runs.
 */

export const FEATURE_INPUT = 32
const WIDTHS = [3, 16, 32, 64, 128] as const
export const FEATURE_DIM = 16 + 32 + 64 + 128 * 4
const NET_SEED = 0x9a11e7

interface Layer {
  cin: number
  cout: number
  /** [ky][kx][cin][cout] */
  w: Float32Array
}

/** 3×3 convolution (zero padding) + ReLU, HWC. */
function convRelu(input: Float32Array, size: number, layer: Layer): Float32Array {
  const { cin, cout, w } = layer
  const out = new Float32Array(size * size * cout)
  const acc = new Float32Array(cout)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      acc.fill(0)
      for (let ky = 0; ky < 3; ky++) {
        const iy = y + ky - 1
        if (iy < 0 || iy >= size) continue
        for (let kx = 0; kx < 3; kx++) {
          const ix = x + kx - 1
          if (ix < 0 || ix >= size) continue
          const ib = (iy * size + ix) * cin
          const wb = (ky * 3 + kx) * cin * cout
          for (let c = 0; c < cin; c++) {
            const v = input[ib + c]!
            if (v === 0) continue
            const wr = wb + c * cout
            for (let o = 0; o < cout; o++) acc[o]! += v * w[wr + o]!
          }
        }
      }
      const ob = (y * size + x) * cout
      for (let o = 0; o < cout; o++) {
        const v = acc[o]!
        out[ob + o] = v > 0 ? v : 0
      }
    }
  }
  return out
}

/** 2×2 average pool, HWC. */
function pool(input: Float32Array, size: number, channels: number): Float32Array {
  const h = size >> 1
  const out = new Float32Array(h * h * channels)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h; x++) {
      const o = (y * h + x) * channels
      const a = ((2 * y) * size + 2 * x) * channels
      const b = a + channels
      const c = a + size * channels
      const d = c + channels
      for (let k = 0; k < channels; k++) out[o + k] = 0.25 * (input[a + k]! + input[b + k]! + input[c + k]! + input[d + k]!)
    }
  }
  return out
}

export class RandomFeatures {
  private readonly layers: Layer[]

  constructor(seed = NET_SEED) {
    const rng = new Rng(seed)
    this.layers = []
    for (let l = 0; l + 1 < WIDTHS.length; l++) {
      const cin = WIDTHS[l]!
      const cout = WIDTHS[l + 1]!
      const w = rng.fillNormal(new Float32Array(9 * cin * cout), Math.sqrt(2 / (9 * cin)))
      this.layers.push({ cin, cout, w })
    }
  }

  /** `count × FEATURE_DIM` features. Images must be 32 px or a multiple of it. */
  features(set: ImageSet): Float32Array {
    const small = set.resolution === FEATURE_INPUT ? set : downscale(set, FEATURE_INPUT)
    const out = new Float32Array(set.count * FEATURE_DIM)
    const imageSize = FEATURE_INPUT * FEATURE_INPUT * 3
    for (let n = 0; n < set.count; n++) {
      let x = small.data.subarray(n * imageSize, (n + 1) * imageSize) as Float32Array
      let size = FEATURE_INPUT
      let f = n * FEATURE_DIM
      this.layers.forEach((layer, l) => {
        const act = convRelu(x, size, layer)
        if (l < this.layers.length - 1) {
          const pixels = size * size
          for (let o = 0; o < layer.cout; o++) {
            let s = 0
            for (let p = 0; p < pixels; p++) s += act[p * layer.cout + o]!
            out[f++] = s / pixels
          }
          x = pool(act, size, layer.cout)
          size >>= 1
        } else {
          // The last stage (4×4) pooled to 2×2, kept spatially.
          const p = pool(act, size, layer.cout)
          out.set(p, f)
          f += p.length
        }
      })
    }
    return out
  }
}

/**
 * The real features' per-dimension mean and one overall scale (the RMS of the centred values).
 * One scale for all dimensions, not one each: a dimension that hardly varies among the real
 * images (a flat background) must not turn small differences into huge ones.
 */
export function featureStats(features: Float32Array, rows: number, dim: number): { mean: Float32Array; scale: number } {
  const mean = new Float32Array(dim)
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) mean[d]! += features[r * dim + d]!
  for (let d = 0; d < dim; d++) mean[d]! /= rows
  let sq = 0
  for (let r = 0; r < rows; r++)
    for (let d = 0; d < dim; d++) {
      const v = features[r * dim + d]! - mean[d]!
      sq += v * v
    }
  const rms = Math.sqrt(sq / Math.max(1, rows * dim))
  return { mean, scale: rms > 1e-8 ? rms : 1 }
}

export function standardise(features: Float32Array, rows: number, dim: number, stats: { mean: Float32Array; scale: number }): Float32Array {
  const out = new Float32Array(features.length)
  const inv = 1 / stats.scale
  for (let r = 0; r < rows; r++)
    for (let d = 0; d < dim; d++) out[r * dim + d] = (features[r * dim + d]! - stats.mean[d]!) * inv
  return out
}

/** Polynomial kernel of KID: (x·y / d + 1)³. */
function kernel(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0
  const ao = ai * dim
  const bo = bi * dim
  for (let k = 0; k < dim; k++) s += a[ao + k]! * b[bo + k]!
  const v = s / dim + 1
  return v * v * v
}

/**
 * Kernel inception distance's unbiased MMD² estimate with the polynomial kernel, on any feature
 * space (here the random network's, standardised by the real images' statistics).
 * `realOffDiagonalMean` (the mean kernel value between distinct real images) can be passed in
 * when the real side is fixed.
 */
export function kernelDistance(
  real: Float32Array,
  n: number,
  fake: Float32Array,
  m: number,
  dim: number,
  realOffDiagonalMean = offDiagonalMean(real, n, dim)
): number {
  const kff = offDiagonalMean(fake, m, dim)
  let cross = 0
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) cross += kernel(fake, i, real, j, dim)
  return realOffDiagonalMean + kff - (2 * cross) / (m * n)
}

export function offDiagonalMean(x: Float32Array, n: number, dim: number): number {
  if (n < 2) return 0
  let s = 0
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += kernel(x, i, x, j, dim)
  return (2 * s) / (n * (n - 1))
}
