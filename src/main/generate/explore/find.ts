import { StudioError } from '@shared/errors'
import { ImageProjector } from '../../trainer/model/projection'
import { Rng } from '../../trainer/model/rng'
import { toUint8 } from '../../trainer/run/grid'
import { loadGenerator, type GeneratorSource } from '../generator'
import { rgbPng } from '../images'
import { multiScaleDistance, psnr, verdictFor, type FindMeasures, type FindVerdict } from './find-measures'
import { loadTarget, type FindTarget } from './find-target'

/**
 * "Find my image" (GAN inversion): the latent whose image is closest to a given picture.
 *
 * The picture is preprocessed as the run's dataset was (find-target.ts). Many random latents are
 * screened with forward passes only; the best few are optimised together for a short while (Adam
 * on z), then the best of those is refined alone. The objective (pixels, a Laplacian pyramid and a
 * prior on |z|) and its gradient are the trainer's (trainer/model/projection.ts); this file is the
 * search around it: starts, Adam, progress, cancel, and the measures of what it found.
 *
 * Whatever the picture, the result is the best latent found with honest measures and a verdict:
 * an image the model cannot make gives "no good match", never an error.
 */

export const FIND_DEFAULT_STEPS = 200
export const FIND_DEFAULT_STARTS = 6
export const FIND_MAX_STEPS = 5000
export const FIND_MAX_STARTS = 32

export interface FindImageOptions extends GeneratorSource {
  target: FindTarget
  /** Optimisation steps in all (default 200): a quarter with every start, the rest refining the best. */
  steps?: number
  /** Latents optimised in the first phase (default 6), chosen from 8× as many random ones. */
  starts?: number
  /** Picks the random latents (default 0): the same request gives the same result. */
  seed?: number
  /** A preview of the best match every this many steps (default 10). */
  previewEvery?: number
  signal?: AbortSignal
  onProgress?: (p: FindProgress) => void
}

export type FindPhase = 'screen' | 'explore' | 'refine' | 'done'

export interface FindProgress {
  phase: FindPhase
  /** Steps done of `total` (screening counts as step 0). */
  done: number
  total: number
  /** The best loss so far (lower is closer), or null before the first. */
  loss: number | null
  /** PNG of the current best match (training resolution), on some steps only. */
  preview: Buffer | null
  /** PNG of the target as it is compared (preprocessed like the run's dataset), on the first event only. */
  target?: Buffer
}

export interface FindImageResult extends FindMeasures {
  /** The found latent, before truncation ψ: use it like any seed. */
  latent: Float32Array
  /** The generator's image for it (training resolution). */
  png: Buffer
  /** The target as it was compared: preprocessed like the run's dataset. */
  targetPng: Buffer
  targetLabel: string
  verdict: FindVerdict
  summary: string
  loss: number
  steps: number
  starts: number
  checkpoint: string
  step: number
  ms: number
}

/** Adam. */
const LR_EXPLORE = 0.2
const LR_REFINE = 0.15
const LR_FLOOR = 0.1
const BETA1 = 0.9
const BETA2 = 0.999
const EPS = 1e-8
/** Latents per forward pass when screening. */
const SCREEN_BATCH = 16

export function checkFindOptions(steps: number, starts: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > FIND_MAX_STEPS) throw new StudioError('bad-input', `Steps must be a whole number from 1 to ${FIND_MAX_STEPS} (got ${steps}).`)
  if (!Number.isInteger(starts) || starts < 1 || starts > FIND_MAX_STARTS) throw new StudioError('bad-input', `Starts must be a whole number from 1 to ${FIND_MAX_STARTS} (got ${starts}).`)
}

class Adam {
  private readonly m: Float32Array
  private readonly v: Float32Array
  private t = 0
  constructor(size: number) {
    this.m = new Float32Array(size)
    this.v = new Float32Array(size)
  }
  step(z: Float32Array, g: Float32Array, lr: number): void {
    this.t++
    const c1 = 1 - BETA1 ** this.t
    const c2 = 1 - BETA2 ** this.t
    for (let i = 0; i < z.length; i++) {
      this.m[i] = BETA1 * this.m[i]! + (1 - BETA1) * g[i]!
      this.v[i] = BETA2 * this.v[i]! + (1 - BETA2) * g[i]! ** 2
      z[i] = z[i]! - (lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + EPS)
    }
  }
}

const cancelled = (): StudioError => new StudioError('cancelled', 'Finding the image was cancelled.')
/** Lets messages (a cancel) through between steps. */
const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r))

export async function findImage(runDir: string, opts: FindImageOptions): Promise<FindImageResult> {
  const steps = opts.steps ?? FIND_DEFAULT_STEPS
  const starts = opts.starts ?? FIND_DEFAULT_STARTS
  checkFindOptions(steps, starts)
  const previewEvery = Math.max(1, Math.floor(opts.previewEvery ?? 10))
  const began = Date.now()
  const gen = await loadGenerator(runDir, opts)
  try {
    const t = await loadTarget(gen.run, opts.target)
    const res = gen.spec.resolution
    if (t.resolution !== res) throw new StudioError('bad-input', `The image was prepared at ${t.resolution} px; this checkpoint makes ${res} px images.`)
    const dim = gen.spec.latentDim
    const size = res * res * 3
    const targetPng = await rgbPng(t.pixels, res)
    const projector = new ImageProjector(gen.family, gen.spec, gen.weights, t.pixels)
    try {
      let bestLoss = Infinity
      const report = (phase: FindPhase, done: number, preview: Buffer | null, target?: Buffer): void =>
        opts.onProgress?.({ phase, done, total: steps, loss: Number.isFinite(bestLoss) ? bestLoss : null, preview, ...(target ? { target } : {}) })
      const check = async (): Promise<void> => {
        await yieldNow()
        if (opts.signal?.aborted) throw cancelled()
      }

      // 1. Screen random latents with forward passes; the nearest `starts` go on. How far the
      //    typical one is from the target is the baseline the result is judged against.
      report('screen', 0, null, targetPng)
      const rng = new Rng((Math.imul(opts.seed ?? 0, 0x9e3779b1) ^ 0x5eed) >>> 0)
      const candidates = Math.max(32, 8 * starts)
      const pool = rng.fillNormal(new Float32Array(candidates * dim), 1)
      const screened = new Float32Array(candidates)
      const distances: number[] = []
      for (let s = 0; s < candidates; s += SCREEN_BATCH) {
        await check()
        const n = Math.min(SCREEN_BATCH, candidates - s)
        const r = await projector.evaluate(pool.slice(s * dim, (s + n) * dim), n, { grad: false, images: 'all' })
        screened.set(r.losses, s)
        for (let i = 0; i < n; i++) distances.push(multiScaleDistance(r.images!.subarray(i * size, (i + 1) * size), t.pixels, res))
      }
      const order = Array.from(screened.keys()).sort((a, b) => screened[a]! - screened[b]!)
      distances.sort((a, b) => a - b)
      const baseline = distances[Math.floor(distances.length / 2)]!
      bestLoss = screened[order[0]!]!
      let bestZ = pool.slice(order[0]! * dim, (order[0]! + 1) * dim)

      // 2. Optimise the best `starts` together for a quarter of the steps; 3. refine the best alone.
      const exploreSteps = starts > 1 ? Math.max(1, Math.round(steps / 4)) : 0
      let z = new Float32Array(starts * dim)
      order.slice(0, starts).forEach((c, i) => z.set(pool.subarray(c * dim, (c + 1) * dim), i * dim))
      let n = starts
      let adam = new Adam(z.length)
      for (let step = 1; step <= steps; step++) {
        await check()
        const refining = step > exploreSteps
        if (refining && n > 1) {
          z = bestZ.slice()
          n = 1
          adam = new Adam(dim)
        }
        const wantPreview = step % previewEvery === 0 || step === 1
        const r = await projector.evaluate(z, n, { grad: true, images: wantPreview ? 'best' : null })
        if (r.losses[r.best]! < bestLoss) {
          bestLoss = r.losses[r.best]!
          bestZ = z.slice(r.best * dim, (r.best + 1) * dim)
        }
        const preview = r.images ? await rgbPng(r.images, res) : null
        // Cosine decay within each phase.
        const [from, len, lr0] = refining ? [exploreSteps, steps - exploreSteps, LR_REFINE] : [0, exploreSteps, LR_EXPLORE]
        const frac = len > 0 ? (step - from - 1) / len : 0
        adam.step(z, r.grad!, lr0 * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * frac))))
        report(refining ? 'refine' : 'explore', step, preview)
      }

      // The best latent seen, rendered and measured against the target.
      await check()
      const rgb = toUint8(await gen.render(bestZ, 1))
      const png = await rgbPng(rgb, res)
      const measures: FindMeasures = { psnr: psnr(rgb, t.pixels), distance: multiScaleDistance(rgb, t.pixels, res), baseline }
      const { verdict, summary } = verdictFor(measures)
      report('done', steps, png)
      return { ...measures, latent: bestZ, png, targetPng, targetLabel: t.label, verdict, summary, loss: bestLoss, steps, starts, checkpoint: gen.checkpoint, step: gen.step, ms: Date.now() - began }
    } finally {
      projector.dispose()
    }
  } finally {
    gen.dispose()
  }
}
