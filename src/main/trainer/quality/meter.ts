import type { RunConfig } from '@shared/config'
import type { QualityScores } from '@shared/runs'
import { toErrorShape } from '@shared/errors'
import type { GanRunner } from '../model/runner'
import { latentsForSeeds } from '../model/rng'
import { DEFAULT_QUALITY_IMAGES, QualityReference } from './index'

/** Quality is measured every this many steps when a run's config does not say (runs saved before the setting). */
export const DEFAULT_QUALITY_EVERY = 500
/** Generated images per forward pass while measuring. */
const CHUNK = 32

/** The quality seeds: fixed for every run (like the sample grid's), so runs compare. */
export function qualitySeeds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i)
}

/**
 * The trainer's quality meter: every `quality.every` steps (and at the last step) it scores the
 * EMA generator's images for the fixed quality seeds against the run's training images. The real
 * images' statistics are prepared on first use and kept for the rest of the session. A failure
 * is logged and skipped: measuring never stops training.
 */
export class TrainingQualityMeter {
  private reference: QualityReference | null = null
  readonly every: number
  private readonly images: number
  private readonly seed: number
  private readonly latentDim: number

  constructor(
    config: RunConfig,
    private readonly pixels: Uint8Array,
    private readonly count: number,
    private readonly resolution: number
  ) {
    // Read defensively: run.json files written before the setting existed have no `quality`.
    const q = (config as Partial<RunConfig>).quality
    this.every = q?.every ?? DEFAULT_QUALITY_EVERY
    this.images = q?.images ?? DEFAULT_QUALITY_IMAGES
    this.seed = config.seed
    this.latentDim = config.model.latentDim
  }

  /** True on the steps that get a quality record. */
  due(step: number, target: number): boolean {
    return this.every > 0 && this.count >= 2 && step > 0 && (step % this.every === 0 || step === target)
  }

  /** Scores the runner's EMA generator; null (after a warning) if it could not. */
  async measure(runner: GanRunner, log: (message: string, level: 'warn') => void): Promise<QualityScores | null> {
    try {
      this.reference ??= QualityReference.fromPixels(this.pixels, this.count, this.resolution, { images: this.images, seed: this.seed })
      const n = this.reference.images
      const seeds = qualitySeeds(n)
      const size = this.resolution * this.resolution * 3
      const data = new Float32Array(n * size)
      for (let start = 0; start < n; start += CHUNK) {
        const chunk = seeds.slice(start, start + CHUNK)
        data.set(await runner.generate(latentsForSeeds(chunk, this.latentDim), chunk.length), start * size)
      }
      return this.reference.measure({ data, count: n, resolution: this.resolution })
    } catch (err) {
      log(`Could not measure quality: ${toErrorShape(err).message}`, 'warn')
      return null
    }
  }
}
