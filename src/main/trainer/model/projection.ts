import * as tf from '@tensorflow/tfjs'
import type { Param } from '../nn/ops'
import { Tape } from '../nn/tape'
import { toUint8 } from '../run/grid'
import type { BaseSpec, ModelFamily } from './family'

/**
 * The tensor side of "find my image" (GAN inversion): how far a generator's images are from one
 * target image, and the gradient of that with respect to the latents.
 *
 * The objective of each latent z is its image's loss against the target plus a small prior term:
 *   mean (x − t)²  +  mean over Laplacian-pyramid levels of mean |L(x − t)|  +  w·(|z|²/dim − 1)²
 * The squared term fits the pixels; the pyramid term counts detail at each scale (down to 4 px),
 * so a blurred average is not the cheapest answer; the prior keeps |z| near √dim, where the
 * generator was trained. The image term's gradient is tfjs autograd on plain ops (every backend
 * has them); it reaches z through the engine's own tape, the hand-written backward passes that
 * training uses, with every parameter left out. No generator mixes images in a batch, so each
 * latent's gradient is its own.
 */

export const MULTISCALE_WEIGHT = 1
export const PRIOR_WEIGHT = 0.02

/** 2×2 average, differentiable by plain tf ops on every backend. */
function down2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape
  return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D
}

/** Nearest ×2, as a broadcast. */
function up2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape
  return tf.reshape(tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [n, h * 2, w * 2, c])
}

/** Per-image loss [N] of images x [N,h,w,3] against t [1,h,w,3], both in [-1, 1] (no prior). */
export function imageLoss(x: tf.Tensor4D, t: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    let d = tf.sub(x, t) as tf.Tensor4D
    const mse = tf.mean(tf.square(d), [1, 2, 3])
    const terms: tf.Tensor[] = []
    while (d.shape[1] > 4 && d.shape[1] % 2 === 0) {
      const low = down2(d)
      terms.push(tf.mean(tf.abs(tf.sub(d, up2(low))), [1, 2, 3]))
      d = low
    }
    terms.push(tf.mean(tf.abs(d), [1, 2, 3]))
    return tf.add(mse, tf.mul(tf.addN(terms), MULTISCALE_WEIGHT / terms.length)) as tf.Tensor1D
  })
}

/** The prior term of latent `i` (rows of `dim`), adding its gradient into `grad` when given. */
export function latentPrior(z: Float32Array, i: number, dim: number, grad: Float32Array | null): number {
  const off = i * dim
  let sq = 0
  for (let k = 0; k < dim; k++) sq += z[off + k]! ** 2
  const e = sq / dim - 1
  if (grad) {
    const g = (PRIOR_WEIGHT * 4 * e) / dim
    for (let k = 0; k < dim; k++) grad[off + k] = grad[off + k]! + g * z[off + k]!
  }
  return PRIOR_WEIGHT * e * e
}

export interface ProjectionEval {
  /** Each latent's objective (image loss + prior). */
  losses: Float32Array
  /** d objective / d z, row-major like z; null for a forward-only evaluation. */
  grad: Float32Array | null
  /** RGB uint8 images: all of them (`images: 'all'`), the best one (`'best'`), or none. */
  images: Uint8Array | null
  /** Which latent `images` holds when it is the best one. */
  best: number
}

export class ImageProjector {
  private readonly target: tf.Tensor4D
  private readonly lookup: (name: string) => Param
  readonly dim: number
  readonly resolution: number

  /** `weights`: the generator's, by parameter name (not owned); `target`: resolution² × 3 bytes. */
  constructor(
    private readonly family: ModelFamily,
    private readonly spec: BaseSpec,
    weights: Record<string, tf.Tensor>,
    target: Uint8Array
  ) {
    const res = spec.resolution
    if (target.length !== res * res * 3) throw new Error(`projection: the target has ${target.length} bytes, expected ${res * res * 3}`)
    this.dim = spec.latentDim
    this.resolution = res
    this.lookup = (name) => ({ name, value: weights[name]! })
    this.target = tf.tidy(() => tf.sub(tf.div(tf.tensor4d(target, [1, res, res, 3], 'float32'), 127.5), 1) as tf.Tensor4D)
  }

  /** The objective of `n` latents (and its gradient when `grad`), with the images asked for. */
  async evaluate(z: Float32Array, n: number, opts: { grad: boolean; images: 'all' | 'best' | null }): Promise<ProjectionEval> {
    const dim = this.dim
    if (z.length !== n * dim) throw new Error(`projection: expected ${n}×${dim} latent values, got ${z.length}`)
    const [images, lossT, dzT] = tf.tidy((): tf.Tensor[] => {
      const zt = tf.tensor2d(z, [n, dim])
      if (!opts.grad) {
        const x = this.family.generate(this.spec, this.lookup, zt, null, { training: false })
        return [x, imageLoss(x, this.target)]
      }
      const tape = new Tape()
      tape.watch(zt)
      const x = this.family.generate(this.spec, this.lookup, zt, tape, { training: false })
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(imageLoss(xx as tf.Tensor4D, this.target)))(x)
      const dz = tape.backward([[x, dx]], { params: () => false }).get(zt.id)
      if (!dz) throw new Error('projection: no gradient reached the latent')
      return [x, imageLoss(x, this.target), dz]
    }) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor | undefined]
    try {
      const [lossData, dzData] = await Promise.all([lossT.data(), dzT ? dzT.data() : Promise.resolve(null)])
      const losses = new Float32Array(lossData as Float32Array)
      const grad = dzData ? new Float32Array(dzData as Float32Array) : null
      for (let i = 0; i < n; i++) losses[i] = losses[i]! + latentPrior(z, i, dim, grad)
      let best = 0
      for (let i = 1; i < n; i++) if (losses[i]! < losses[best]!) best = i
      let pixels: Uint8Array | null = null
      if (opts.images === 'all') pixels = toUint8((await images.data()) as Float32Array)
      else if (opts.images === 'best') {
        const one = tf.slice(images, [best, 0, 0, 0], [1, -1, -1, -1])
        try {
          pixels = toUint8((await one.data()) as Float32Array)
        } finally {
          one.dispose()
        }
      }
      return { losses, grad, images: pixels, best }
    } finally {
      tf.dispose([images, lossT, ...(dzT ? [dzT] : [])])
    }
  }

  dispose(): void {
    this.target.dispose()
  }
}
