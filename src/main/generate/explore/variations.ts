import { StudioError } from '@shared/errors'
import { latentForSeed } from '../../trainer/model/rng'
import { checkTruncation, loadGenerator, type GeneratorSource } from '../generator'
import { SEED_MAX } from '@shared/config'
import { renderPngs, sourceLatents, type LatentSource } from './render'

/**
 * Variations: neighbours of one image's latent. Each neighbour turns the centre towards a random
 * direction by an angle set by the strength (z = cos(a)·c + sin(a)·n, a = strength·π/2): 0 is the
 * centre itself, 1 an unrelated latent, and in between the latent keeps a typical length for the
 * Gaussian prior, so neighbours stay as sharp as the centre. Which random directions is fixed by a
 * variation seed, so the same request gives the same grid.
 */

export const MAX_VARIATIONS = 64

export interface VariationsOptions extends GeneratorSource {
  center: LatentSource
  /** 0 (the centre) to 1 (unrelated); default 0.3. */
  strength?: number
  /** Neighbours (default 8). */
  count?: number
  /** Picks the random directions (default 0). */
  variationSeed?: number
  truncation?: number
  signal?: AbortSignal
}

export interface Variation {
  /** Latent before ψ: feed it back as a centre, or keep it in a collection. */
  latent: Float32Array
  png: Buffer
}

export interface VariationsResult {
  center: Variation
  neighbours: Variation[]
  checkpoint: string
  step: number
}

export function checkStrength(strength: number): void {
  if (!Number.isFinite(strength) || strength < 0 || strength > 1) throw new StudioError('bad-input', `Strength must be between 0 and 1 (got ${strength}).`)
}

/** The neighbours' latents (before ψ), `count` rows of `center.length`. Pure. */
export function variationLatents(center: Float32Array, count: number, strength: number, variationSeed: number): Float32Array {
  checkStrength(strength)
  const dim = center.length
  const a = (strength * Math.PI) / 2
  const c = Math.cos(a)
  const s = Math.sin(a)
  const out = new Float32Array(count * dim)
  for (let i = 0; i < count; i++) {
    // One direction per (variation seed, neighbour): stable when the count changes.
    const n = latentForSeed(((variationSeed * 1009 + i * 7919 + 1) >>> 0) % (SEED_MAX + 1), dim)
    for (let k = 0; k < dim; k++) out[i * dim + k] = c * center[k]! + s * n[k]!
  }
  return out
}

export async function makeVariations(runDir: string, opts: VariationsOptions): Promise<VariationsResult> {
  const strength = opts.strength ?? 0.3
  checkStrength(strength)
  const count = opts.count ?? 8
  if (!Number.isInteger(count) || count < 1 || count > MAX_VARIATIONS) throw new StudioError('bad-input', `Variations: 1 to ${MAX_VARIATIONS} neighbours (got ${count}).`)
  const variationSeed = opts.variationSeed ?? 0
  if (!Number.isInteger(variationSeed) || variationSeed < 0 || variationSeed > SEED_MAX) throw new StudioError('bad-input', `The variation seed must be 0 to ${SEED_MAX}.`)
  if (opts.center.seed !== undefined && (!Number.isInteger(opts.center.seed) || opts.center.seed < 0 || opts.center.seed > SEED_MAX))
    throw new StudioError('bad-input', `Seed ${opts.center.seed} is out of range (0 to ${SEED_MAX}).`)
  const psi = opts.truncation ?? 1
  checkTruncation(psi)
  const gen = await loadGenerator(runDir, opts)
  try {
    const dim = gen.spec.latentDim
    const center = sourceLatents([opts.center], dim, 1)
    const around = variationLatents(center, count, strength, variationSeed)
    if (opts.signal?.aborted) throw new StudioError('cancelled', 'The variations were cancelled.')
    const all = new Float32Array((count + 1) * dim)
    all.set(center, 0)
    all.set(around, dim)
    const scaled = psi === 1 ? all : all.map((v) => v * psi)
    const pngs = await renderPngs(gen, scaled, count + 1)
    const row = (i: number): Float32Array => all.slice(i * dim, (i + 1) * dim)
    return {
      center: { latent: row(0), png: pngs[0]! },
      neighbours: Array.from({ length: count }, (_, i) => ({ latent: row(i + 1), png: pngs[i + 1]! })),
      checkpoint: gen.checkpoint,
      step: gen.step
    }
  } finally {
    gen.dispose()
  }
}
