import * as tf from '@tensorflow/tfjs'
import { StudioError } from '@shared/errors'
import { yieldToEventLoop } from '../../util/yield'
import { Rng } from '../model/rng'
import { invert, orthonormalColumns, symmetricEigen } from './linalg'

/**
 * Principal directions of a generator, GANSpace-style (Härkönen et al. 2020, for generators without
 * a mapping network): early features of many latents → PCA → the latent direction that moves along
 * each principal axis, found by regressing the latents on their PCA coordinates.
 *
 * The features of all samples are made once, in batches, and kept as centred batch tensors (the
 * caller bounds N·D). The top components come from block power iteration on the covariance
 * C = FᵀF / N (never formed: C·Q = Σ_b F_bᵀ(F_b Q)) with a few extra columns, and a final
 * Rayleigh–Ritz step; the small matrices are orthonormalised and diagonalised in float64 here.
 * The regression z ≈ V x over all samples gives V = (ZᵀX)(XᵀX)⁻¹; its columns, normalised, are the
 * latent directions. Every batch yields to the event loop, so a cancel gets through.
 */

export interface PrincipalDirectionsOptions {
  /** Directions wanted (fewer when the latent or feature size allows fewer). */
  components: number
  /** Rows per forward pass (default 256). */
  batch?: number
  /** Power iterations (default 8) and extra columns (default 8): accuracy of the trailing components. */
  iterations?: number
  oversample?: number
  /** Starts the power iteration (default 1). */
  seed?: number
  signal?: AbortSignal
  /** Batches processed over all passes. */
  onProgress?: (done: number, total: number) => void
}

export interface LatentDirection {
  /** Unit vector in latent space. */
  vector: Float32Array
  /** Variance of the features along this principal axis. */
  variance: number
  /** Share of the features' total variance along this axis. */
  explained: number
  /** Standard deviation of the sampled latents' coordinate along `vector` (≈ 1 for a standard normal prior). */
  sigma: number
}

export interface PrincipalDirections {
  featureDim: number
  samples: number
  totalVariance: number
  directions: LatentDirection[]
}

/**
 * Directions for `latents` (N rows of `latentDim`) with `features(z, n)` giving each batch's early
 * features as an [n, D] tensor (owned by the caller of `features`, i.e. disposed here).
 */
export async function principalDirections(
  latents: Float32Array,
  latentDim: number,
  features: (z: Float32Array, n: number) => tf.Tensor2D,
  opts: PrincipalDirectionsOptions
): Promise<PrincipalDirections> {
  const n = latents.length / latentDim
  if (!Number.isInteger(n) || n < 2) throw new Error(`principalDirections needs at least two latents of ${latentDim} values`)
  const batch = opts.batch ?? 256
  const iterations = opts.iterations ?? 8
  const rng = new Rng(opts.seed ?? 1)
  // Every tensor made here is held until dropped; whatever is still held at the end (a cancel, an
  // error) is disposed then. (No engine scope: other jobs of this process make tensors meanwhile.)
  const held = new Set<tf.Tensor>()
  const hold = <T extends tf.Tensor>(t: T): T => {
    held.add(t)
    return t
  }
  const drop = (t: tf.Tensor | null): void => {
    if (!t) return
    held.delete(t)
    t.dispose()
  }
  const batches: tf.Tensor2D[] = []
  const starts: number[] = []
  for (let s = 0; s < n; s += batch) starts.push(s)
  const passes = 1 + iterations + 1 + 1
  const total = passes * starts.length
  let done = 0
  const cancelled = (): StudioError => new StudioError('cancelled', 'Finding the directions was cancelled.')
  const step = async (): Promise<void> => {
    done += 1
    opts.onProgress?.(done, total)
    await yieldToEventLoop()
    if (opts.signal?.aborted) throw cancelled()
  }
  const rowsOf = (b: number): number => Math.min(batch, n - starts[b]!)
  const noVariety = (): StudioError => new StudioError('bad-input', 'The generator’s early features do not vary with the latent: there are no directions to find.')

  try {
    if (opts.signal?.aborted) throw cancelled()
    opts.onProgress?.(0, total)
    // Pass 1: the features, kept; their sum for the mean.
    let sum: tf.Tensor1D | null = null
    for (let b = 0; b < starts.length; b++) {
      const rows = rowsOf(b)
      const f = hold(features(latents.subarray(starts[b]! * latentDim, (starts[b]! + rows) * latentDim), rows))
      batches.push(f)
      const previous: tf.Tensor1D | null = sum
      sum = hold(tf.tidy(() => (previous ? tf.add(previous, tf.sum(f, 0)) : tf.sum(f, 0)) as tf.Tensor1D))
      drop(previous)
      await step()
    }
    const dim = batches[0]!.shape[1]
    const mean = hold(tf.tidy(() => tf.div(sum!, n) as tf.Tensor1D))
    drop(sum)
    let sumSquares = 0
    for (let b = 0; b < batches.length; b++) {
      const raw = batches[b]!
      batches[b] = hold(tf.tidy(() => tf.sub(raw, mean) as tf.Tensor2D))
      drop(raw)
      const sq = hold(tf.tidy(() => tf.sum(tf.square(batches[b]!))))
      sumSquares += (await sq.data())[0]!
      drop(sq)
    }
    drop(mean)
    const totalVariance = sumSquares / n

    const k = Math.max(0, Math.min(opts.components, latentDim, dim, n - 1))
    if (k === 0 || !(totalVariance > 0)) throw noVariety()
    const width = Math.min(k + (opts.oversample ?? 8), dim)

    /** C·Q for Q [dim, width] (held; the caller drops it). */
    const covTimes = async (q: tf.Tensor2D): Promise<tf.Tensor2D> => {
      let acc: tf.Tensor2D | null = null
      for (const f of batches) {
        const previous: tf.Tensor2D | null = acc
        acc = hold(
          tf.tidy(() => {
            const part = tf.matMul(f, tf.matMul(f, q), true, false)
            return (previous ? tf.add(previous, part) : part) as tf.Tensor2D
          })
        )
        drop(previous)
        await step()
      }
      const out = hold(tf.tidy(() => tf.div(acc!, n) as tf.Tensor2D))
      drop(acc)
      return out
    }

    // Block power iteration from a seeded random start.
    const start = new Float32Array(dim * width)
    rng.fillNormal(start, 1)
    let q = hold(tf.tensor2d(orthonormalColumns(start, dim, width, rng), [dim, width]))
    for (let it = 0; it < iterations; it++) {
      const b = await covTimes(q)
      const data = await b.data()
      drop(b)
      drop(q)
      q = hold(tf.tensor2d(orthonormalColumns(data, dim, width, rng), [dim, width]))
    }
    // Rayleigh–Ritz: the eigenvectors of QᵀCQ rotate Q onto the principal axes.
    const cq = await covTimes(q)
    const small = hold(tf.tidy(() => tf.matMul(q, cq, true, false)))
    drop(cq)
    const eig = symmetricEigen(await small.data(), width)
    drop(small)
    const keep = eig.values.slice(0, k).filter((v) => v > 1e-9 * eig.values[0]!).length
    if (keep === 0) throw noVariety()
    const w = new Float32Array(width * keep)
    for (let j = 0; j < keep; j++) for (let i = 0; i < width; i++) w[i * keep + j] = eig.vectors[j]![i]!
    const axes = hold(tf.tidy(() => tf.matMul(q, tf.tensor2d(w, [width, keep])) as tf.Tensor2D))
    drop(q)

    // Regression of the latents on their PCA coordinates: V = (ZᵀX)(XᵀX)⁻¹.
    let xtx: tf.Tensor2D | null = null
    let ztx: tf.Tensor2D | null = null
    for (let b = 0; b < batches.length; b++) {
      const rows = rowsOf(b)
      const z = latents.subarray(starts[b]! * latentDim, (starts[b]! + rows) * latentDim)
      const f = batches[b]!
      const pxx: tf.Tensor2D | null = xtx
      const pzx: tf.Tensor2D | null = ztx
      const [a, c] = tf.tidy((): [tf.Tensor2D, tf.Tensor2D] => {
        const x = tf.matMul(f, axes)
        const xx = tf.matMul(x, x, true, false)
        const zx = tf.matMul(tf.tensor2d(z, [rows, latentDim]), x, true, false)
        return [(pxx ? tf.add(pxx, xx) : xx) as tf.Tensor2D, (pzx ? tf.add(pzx, zx) : zx) as tf.Tensor2D]
      })
      xtx = hold(a)
      ztx = hold(c)
      drop(pxx)
      drop(pzx)
      await step()
    }
    drop(axes)
    const sxx = await xtx!.data()
    const szx = await ztx!.data()
    drop(xtx)
    drop(ztx)
    const inv = invert(sxx, keep)
    const directions: LatentDirection[] = []
    for (let j = 0; j < keep; j++) {
      const v = new Float64Array(latentDim)
      for (let r = 0; r < latentDim; r++) {
        let s = 0
        for (let c = 0; c < keep; c++) s += szx[r * keep + c]! * inv[c * keep + j]!
        v[r] = s
      }
      let len = 0
      let big = 0
      for (let r = 0; r < latentDim; r++) {
        len += v[r]! * v[r]!
        if (Math.abs(v[r]!) > Math.abs(v[big]!)) big = r
      }
      len = Math.sqrt(len)
      if (!(len > 0) || !Number.isFinite(len)) continue
      // An eigenvector has no sign of its own: the largest entry is made positive, so it is stable.
      const sign = v[big]! < 0 ? -1 : 1
      const vector = new Float32Array(latentDim)
      for (let r = 0; r < latentDim; r++) vector[r] = (sign * v[r]!) / len
      directions.push({ vector, variance: eig.values[j]!, explained: eig.values[j]! / totalVariance, sigma: coordinateSpread(latents, latentDim, vector) })
    }
    return { featureDim: dim, samples: n, totalVariance, directions }
  } finally {
    tf.dispose([...held])
  }
}

/** Standard deviation of the latents' coordinates along a unit vector. */
function coordinateSpread(latents: Float32Array, dim: number, v: Float32Array): number {
  const n = latents.length / dim
  let s = 0
  let s2 = 0
  for (let i = 0; i < n; i++) {
    let c = 0
    for (let k = 0; k < dim; k++) c += latents[i * dim + k]! * v[k]!
    s += c
    s2 += c * c
  }
  const mean = s / n
  return Math.sqrt(Math.max(0, s2 / n - mean * mean))
}
