import { Rng } from '../model/rng'
import type { ImageSet } from './images'

/**
 * Sliced Wasserstein distance between two image sets, as in ProGAN (Karras et al. 2018): each
 * image becomes a Laplacian pyramid from its resolution down to 16 px; from every level, 7×7
 * neighbourhoods (all three colours) are cut at random places; each set's descriptors are
 * normalised per colour channel; the distance between the two sets of descriptors is the mean,
 * over random unit directions, of the 1-D Wasserstein distance between their projections
 * (sorted projections, mean absolute difference). Reported ×1000 and averaged over the levels;
 * lower is better. The real side (descriptors and sorted projections) is computed once.
 */

export interface SwdOptions {
  /** Neighbourhoods cut from each image at each level (ProGAN: 128; 64 here, for speed). */
  nhoodsPerImage?: number
  /** Random projection directions (ProGAN: 4 × 128; 128 here, for speed). */
  directions?: number
  seed?: number
}

const NHOOD = 7
const HALF = 3
const DESC = NHOOD * NHOOD * 3
const KERNEL = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]
const MIN_LEVEL = 16

/** scipy.ndimage "mirror" boundary: reflect about the edge pixel. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i
  return i
}

/** Gaussian blur then every second pixel: n × n → n/2 × n/2 (one plane). */
function pyrDown(plane: Float32Array, n: number): Float32Array {
  const h = n >> 1
  const tmp = new Float32Array(n * h)
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < h; x++) {
      let s = 0
      for (let j = 0; j < 5; j++) s += KERNEL[j]! * plane[y * n + mirror(2 * x + j - 2, n)]!
      tmp[y * h + x] = s
    }
  }
  const out = new Float32Array(h * h)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h; x++) {
      let s = 0
      for (let i = 0; i < 5; i++) s += KERNEL[i]! * tmp[mirror(2 * y + i - 2, n) * h + x]!
      out[y * h + x] = s
    }
  }
  return out
}

/** Zeros between pixels, then the Gaussian ×4: n × n → 2n × 2n (one plane). */
function pyrUp(plane: Float32Array, n: number): Float32Array {
  const m = 2 * n
  const at = (i: number): number => {
    const k = mirror(i, m)
    return k & 1 ? -1 : k >> 1
  }
  const tmp = new Float32Array(n * m)
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < m; x++) {
      let s = 0
      for (let j = 0; j < 5; j++) {
        const k = at(x + j - 2)
        if (k >= 0) s += 2 * KERNEL[j]! * plane[y * n + k]!
      }
      tmp[y * m + x] = s
    }
  }
  const out = new Float32Array(m * m)
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < m; x++) {
      let s = 0
      for (let i = 0; i < 5; i++) {
        const k = at(y + i - 2)
        if (k >= 0) s += 2 * KERNEL[i]! * tmp[k * m + x]!
      }
      out[y * m + x] = s
    }
  }
  return out
}

/** Pyramid level resolutions for an image size: r, r/2, … down to 16. */
export function pyramidLevels(resolution: number): number[] {
  const out: number[] = []
  for (let r = resolution; r >= MIN_LEVEL; r = r >> 1) out.push(r)
  return out
}

/** Laplacian pyramid of one HWC image: per level, three planes (the last level is the blurred residual). */
export function laplacianPyramid(image: Float32Array, resolution: number): Float32Array[][] {
  const levels = pyramidLevels(resolution)
  const gauss: Float32Array[][] = []
  const planes = [0, 1, 2].map((c) => {
    const p = new Float32Array(resolution * resolution)
    for (let i = 0; i < p.length; i++) p[i] = image[i * 3 + c]!
    return p
  })
  gauss.push(planes)
  for (let l = 1; l < levels.length; l++) gauss.push(gauss[l - 1]!.map((p) => pyrDown(p, levels[l - 1]!)))
  return gauss.map((level, l) => {
    if (l === levels.length - 1) return level
    return level.map((p, c) => {
      const up = pyrUp(gauss[l + 1]![c]!, levels[l + 1]!)
      const out = new Float32Array(p.length)
      for (let i = 0; i < p.length; i++) out[i] = p[i]! - up[i]!
      return out
    })
  })
}

/**
 * Where the neighbourhoods are cut: the same places in every image of every set, so the real and
 * generated sides are sampled alike and the order of the images does not matter.
 */
function positions(seed: number, level: number, nhoods: number, size: number): Uint16Array {
  const rng = new Rng((seed ^ Math.imul(level + 1, 0x9e3779b1)) >>> 0)
  const span = size - 2 * HALF
  const out = new Uint16Array(nhoods * 2)
  for (let i = 0; i < nhoods * 2; i++) out[i] = HALF + rng.int(span)
  return out
}

/** Descriptors (N × 147) per level, normalised per channel over the set. */
function descriptors(set: ImageSet, nhoods: number, seed: number): Float32Array[] {
  const levels = pyramidLevels(set.resolution)
  const total = set.count * nhoods
  const out = levels.map(() => new Float32Array(total * DESC))
  const pos = levels.map((size, l) => positions(seed, l, nhoods, size))
  const imageSize = set.resolution * set.resolution * 3
  for (let n = 0; n < set.count; n++) {
    const pyramid = laplacianPyramid(set.data.subarray(n * imageSize, (n + 1) * imageSize), set.resolution)
    levels.forEach((size, l) => {
      const planes = pyramid[l]!
      const desc = out[l]!
      const p = pos[l]!
      for (let k = 0; k < nhoods; k++) {
        const row = n * nhoods + k
        const cx = p[k * 2]!
        const cy = p[k * 2 + 1]!
        let d = row * DESC
        for (let c = 0; c < 3; c++) {
          const plane = planes[c]!
          for (let dy = -HALF; dy <= HALF; dy++) {
            const base = (cy + dy) * size + cx
            for (let dx = -HALF; dx <= HALF; dx++) desc[d++] = plane[base + dx]!
          }
        }
      }
    })
  }
  for (const desc of out) normalise(desc, total)
  return out
}

function normalise(desc: Float32Array, rows: number): void {
  const per = NHOOD * NHOOD
  for (let c = 0; c < 3; c++) {
    let sum = 0
    let sq = 0
    for (let r = 0; r < rows; r++) {
      const base = r * DESC + c * per
      for (let k = 0; k < per; k++) {
        const v = desc[base + k]!
        sum += v
        sq += v * v
      }
    }
    const n = rows * per
    const mean = sum / n
    const std = Math.sqrt(Math.max(0, sq / n - mean * mean))
    const inv = std > 1e-8 ? 1 / std : 1
    for (let r = 0; r < rows; r++) {
      const base = r * DESC + c * per
      for (let k = 0; k < per; k++) desc[base + k] = (desc[base + k]! - mean) * inv
    }
  }
}

function randomDirections(count: number, seed: number): Float32Array {
  const rng = new Rng(seed)
  const dirs = rng.fillNormal(new Float32Array(count * DESC))
  for (let d = 0; d < count; d++) {
    let s = 0
    for (let k = 0; k < DESC; k++) s += dirs[d * DESC + k]! ** 2
    const inv = 1 / Math.sqrt(s)
    for (let k = 0; k < DESC; k++) dirs[d * DESC + k]! *= inv
  }
  return dirs
}

/** Sorted projections: `dirs` rows of `rows` values. */
function sortedProjections(desc: Float32Array, rows: number, dirs: Float32Array, dirCount: number): Float32Array {
  const out = new Float32Array(dirCount * rows)
  for (let r = 0; r < rows; r++) {
    const base = r * DESC
    for (let d = 0; d < dirCount; d++) {
      const db = d * DESC
      let s = 0
      for (let k = 0; k < DESC; k++) s += desc[base + k]! * dirs[db + k]!
      out[d * rows + r] = s
    }
  }
  for (let d = 0; d < dirCount; d++) out.subarray(d * rows, (d + 1) * rows).sort()
  return out
}

export interface SwdResult {
  /** Mean over the levels, ×1000. */
  swd: number
  /** Per level, finest first, ×1000. */
  levels: number[]
}

/** The real side of SWD, prepared once: compare any number of generated sets of the same size against it. */
export class SwdReference {
  readonly count: number
  readonly resolution: number
  private readonly nhoods: number
  private readonly seed: number
  private readonly dirCount: number
  private readonly dirs: Float32Array
  private readonly real: Float32Array[]

  constructor(real: ImageSet, options: SwdOptions = {}) {
    if (real.resolution < MIN_LEVEL) throw new Error(`SWD needs images of at least ${MIN_LEVEL} px`)
    this.count = real.count
    this.resolution = real.resolution
    this.nhoods = options.nhoodsPerImage ?? 64
    this.seed = options.seed ?? 1
    this.dirCount = options.directions ?? 128
    this.dirs = randomDirections(this.dirCount, (this.seed + 0x51ed) >>> 0)
    const rows = this.count * this.nhoods
    this.real = descriptors(real, this.nhoods, this.seed).map((desc) => sortedProjections(desc, rows, this.dirs, this.dirCount))
  }

  score(fake: ImageSet): SwdResult {
    if (fake.count !== this.count || fake.resolution !== this.resolution)
      throw new Error(`SWD compares sets of the same size (real ${this.count} × ${this.resolution} px, generated ${fake.count} × ${fake.resolution} px)`)
    const rows = this.count * this.nhoods
    const levels = descriptors(fake, this.nhoods, this.seed).map((desc, l) => {
      const proj = sortedProjections(desc, rows, this.dirs, this.dirCount)
      const real = this.real[l]!
      let sum = 0
      for (let i = 0; i < proj.length; i++) sum += Math.abs(proj[i]! - real[i]!)
      return (sum / proj.length) * 1e3
    })
    return { swd: levels.reduce((a, b) => a + b, 0) / levels.length, levels }
  }
}
