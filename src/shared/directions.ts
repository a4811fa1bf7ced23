import { z } from 'zod'

/**
 * Directions (sliders): latent directions that change one thing about an image, found per run
 * GANSpace-style (principal components of the generator's early features, regressed back to the
 * latent), and the ones an artist has named and saved in the run folder. Applying them is plain
 * arithmetic on latents (before truncation ψ), shared by the studio, the CLI and walks:
 * z' = z + Σ amount · scale · vector. Amounts are in standard deviations of the latent prior
 * along the direction (a unit vector), so ±3 reaches as far as a typical latent does.
 */

/** Principal directions computed (and cached) per checkpoint; a request asks for up to this many. */
export const MAX_DIRECTIONS = 16
/** The sliders' reach, in standard deviations. */
export const DIRECTION_RANGE_SIGMAS = 3
export const MAX_SAVED_DIRECTIONS = 200
export const MAX_DIRECTION_NAME = 60

/** One principal direction of a run's generator at a checkpoint. */
export interface DirectionComponent {
  /** 1 = the direction of most variance. */
  component: number
  /** Unit vector in latent space. */
  vector: number[]
  /** Variance of the early features along this principal axis, and its share of their total. */
  variance: number
  explained: number
  /** Spread of typical latents along `vector` (≈ 1); the slider's range is ±3 of it. */
  sigma: number
  range: [number, number]
}

/** What `directions.components` answers: a run's principal directions at one checkpoint. */
export interface DirectionsInfo {
  checkpoint: string
  step: number
  /** True when they came from the run folder's cache (no computing). */
  cached: boolean
  samples: number
  featureDim: number
  latentDim: number
  /** Milliseconds the computation took (when it was computed, at that time). */
  ms: number
  components: DirectionComponent[]
}

/** A direction an artist named and saved with the run (directions.json in its folder). */
export interface SavedDirection {
  id: string
  name: string
  /** Unit vector in latent space (a flip is already in it). */
  vector: number[]
  /** An amount of 1 moves this many standard deviations along `vector`. */
  scale: number
  /** Where it came from: a principal component (1-based) of a checkpoint, or null (a mix of sliders). */
  component: number | null
  checkpoint: string | null
  step: number | null
  createdAt: string
  updatedAt: string
}

/** A direction by reference as people type it: `3` or `pc3` is principal component 3, anything else a saved name. */
export type DirectionRef = { component: number; name?: undefined } | { name: string; component?: undefined }

export function parseDirectionRef(text: string): DirectionRef {
  const t = text.trim()
  const m = /^(?:pc)?(\d{1,3})$/i.exec(t)
  return m ? { component: Number(m[1]) } : { name: t }
}

/** Why a name cannot be a saved direction's, or null when it can. */
export function directionNameProblem(name: string): string | null {
  const t = name.trim()
  if (t.length === 0) return 'A direction needs a name.'
  if (t.length > MAX_DIRECTION_NAME) return `A direction name is at most ${MAX_DIRECTION_NAME} characters.`
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) return 'A direction name cannot hold control characters.'
  if (/[+:@~,=]/.test(t)) return 'A direction name cannot hold + : @ ~ , or = (walk keyframes use them).'
  if (/^(?:pc)?\d+$/i.test(t)) return `“${t}” names a principal component; choose a word.`
  return null
}

/** Same name, ignoring case and accents' absence only where the locale says so. */
export const sameDirectionName = (a: string, b: string): boolean => a.trim().localeCompare(b.trim(), undefined, { sensitivity: 'accent' }) === 0

/** z + Σ amount · vector: a latent moved along directions (vectors already scaled). Pure; `base` is not changed. */
export function applyDirections(base: ArrayLike<number>, offsets: readonly { vector: ArrayLike<number>; amount: number }[]): number[] {
  const out = Array.from(base)
  for (const { vector, amount } of offsets) {
    if (amount === 0) continue
    if (vector.length !== out.length) throw new Error(`a direction of ${vector.length} values cannot move a latent of ${out.length}`)
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + amount * vector[i]!
  }
  return out
}

/** A saved direction's vector with its scale applied (what `applyDirections` takes). */
export function scaledVector(d: Pick<SavedDirection, 'vector' | 'scale'>): number[] {
  return d.vector.map((v) => v * d.scale)
}

/** Amounts as people type them ("-3,-1.5,0,1.5,3"), or why not. */
export function parseAmounts(text: string, max = 32): { amounts: number[]; error: string | null } {
  const parts = text.split(',').map((p) => p.trim())
  if (parts.length === 0 || parts.some((p) => p === '')) return { amounts: [], error: 'Amounts are numbers separated by commas, e.g. -3,-1.5,0,1.5,3.' }
  const amounts = parts.map(Number)
  if (amounts.some((a) => !Number.isFinite(a))) return { amounts: [], error: `Amounts must be numbers (got “${text}”).` }
  if (amounts.length > max) return { amounts: [], error: `At most ${max} amounts.` }
  if (amounts.some((a) => Math.abs(a) > 100)) return { amounts: [], error: 'Amounts go from -100 to 100 standard deviations.' }
  return { amounts, error: null }
}

const directionName = z.string().trim().min(1).max(MAX_DIRECTION_NAME)
const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a run or dataset id')
const jobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)
const checkpointName = z.string().regex(/^step-\d{6,}$/, 'must be a checkpoint name (step-NNNNNN)')

/** The requests of the directions tools (part of the contract's requestSchemas). */
export const directionRequestSchemas = {
  /** A run's principal directions at a checkpoint: from the run folder's cache, else computed by a trainer child (progress as `jobs.progress`, kind `directions`). */
  'directions.components': z
    .object({
      id: runId,
      checkpoint: checkpointName.optional(),
      count: z.number().int().min(1).max(MAX_DIRECTIONS).default(10),
      /** Compute again even when the cache holds them. */
      recompute: z.boolean().default(false),
      /** Names the job for `jobs.cancel` and its progress events. */
      jobId: jobId.optional()
    })
    .strict(),
  /** The run's saved directions. */
  'directions.saved': z.object({ id: runId }).strict(),
  /** Saves, renames or deletes one saved direction; answers with all of them as stored. */
  'directions.edit': z
    .object({
      id: runId,
      action: z.enum(['save', 'rename', 'delete']),
      name: directionName,
      /** rename: the new name. */
      newName: directionName.optional(),
      /** save: the direction (any length; stored as a unit vector), its scale, and where it came from. */
      vector: z.array(z.number().finite().min(-1e4).max(1e4)).min(1).max(512).optional(),
      scale: z.number().min(0.01).max(100).default(1),
      component: z.number().int().min(1).max(MAX_DIRECTIONS).optional(),
      checkpoint: checkpointName.optional()
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.action === 'save' && p.vector === undefined) ctx.addIssue({ code: 'custom', path: ['vector'], message: 'is required to save' })
      if (p.action === 'rename' && p.newName === undefined) ctx.addIssue({ code: 'custom', path: ['newName'], message: 'is required to rename' })
    })
} as const
