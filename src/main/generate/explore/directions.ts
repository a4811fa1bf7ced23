import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import {
  applyDirections,
  DIRECTION_RANGE_SIGMAS,
  MAX_DIRECTIONS,
  scaledVector,
  type DirectionComponent,
  type DirectionRef,
  type DirectionsInfo,
  type SavedDirection
} from '@shared/directions'
import { StudioError } from '@shared/errors'
import { principalDirections } from '../../trainer/directions/pca'
import { Rng } from '../../trainer/model/rng'
import { listCheckpoints, loadCheckpoint } from '../../trainer/run/checkpoint'
import { readRun } from '../../trainer/run/runs'
import { readJson, writeJsonAtomic } from '../../util/fs'
import { loadGenerator, type GeneratorSource } from '../generator'
import { renderSources, sourceLatents, type LatentSource } from './render'
import { findSavedDirection, readSavedDirections } from './saved-directions'

/**
 * A run's principal directions (GANSpace-style, see trainer/directions/pca.ts), computed once per
 * checkpoint and generator (EMA or raw) and cached in the run folder as
 * `explore/directions-<checkpoint>[-raw].json` (written atomically, versioned, tied to the
 * checkpoint's checksum), so the next request reads them instead of computing. A cache for a
 * checkpoint that no longer exists is removed when a new one is written.
 *
 * Samples: `samples` latents (default 4096) drawn from a fixed seed; their early features are kept
 * in memory while the directions are found, at most FEATURE_BUDGET bytes, so a wide generator uses
 * fewer samples (never fewer than 1024).
 */

export const DIRECTIONS_FORMAT = 1
export const DEFAULT_SAMPLES = 4096
export const MIN_SAMPLES = 1024
export const MAX_SAMPLES = 16384
const FEATURE_BUDGET = 128 * 1024 * 1024
/** The latents the directions are computed from (any fixed seed; recorded in the cache). */
const SAMPLE_SEED = 20_200_406

export interface DirectionsOptions extends GeneratorSource {
  /** Directions to answer with (1 to 16, default 10); 16 are computed and cached either way. */
  count?: number
  /** Latents sampled (default 4096; fewer for a wide generator). Given: a cache computed from another number is not used. */
  samples?: number
  /** Compute even when the cache holds them. */
  recompute?: boolean
  signal?: AbortSignal
  /** Batches done over all passes of the computation (not called for a cached answer). */
  onProgress?: (done: number, total: number) => void
}

export interface RunDirections extends DirectionsInfo {
  /** The cache file (absolute). */
  file: string
  useEma: boolean
}

interface DirectionsFile {
  formatVersion: number
  checkpoint: string
  step: number
  checkpointSha256: string
  useEma: boolean
  family: string
  layer: string
  latentDim: number
  featureDim: number
  /** Samples asked for, and used (fewer when the features would not fit the budget). */
  requestedSamples: number
  samples: number
  sampleSeed: number
  totalVariance: number
  computedAt: string
  ms: number
  components: DirectionComponent[]
}

export function checkDirectionCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DIRECTIONS) throw new StudioError('bad-input', `Directions: 1 to ${MAX_DIRECTIONS} (got ${count}).`)
}

export const directionsFileName = (checkpoint: string, useEma: boolean): string => `directions-${checkpoint}${useEma ? '' : '-raw'}.json`
const CACHE_FILE = /^directions-(step-\d{6,})(-raw)?\.json$/

/** Rounds to float32 and 7 significant digits: what the cache stores. */
const compact = (v: number): number => Number(Math.fround(v).toPrecision(7))

async function readCache(file: string): Promise<DirectionsFile | null> {
  try {
    const raw = await readJson<DirectionsFile>(file)
    if (!raw || typeof raw !== 'object' || raw.formatVersion !== DIRECTIONS_FORMAT || !Array.isArray(raw.components)) return null
    const ok = raw.components.every(
      (c, i) => c && c.component === i + 1 && Array.isArray(c.vector) && c.vector.length === raw.latentDim && c.vector.every(Number.isFinite) && Number.isFinite(c.explained) && Array.isArray(c.range)
    )
    return ok ? raw : null
  } catch {
    // Missing, unreadable or from elsewhere: computed again and rewritten.
    return null
  }
}

/** Removes caches of checkpoints that are gone (pruned), keeping everything else in explore/. */
async function pruneCaches(runDir: string): Promise<void> {
  const dir = join(runDir, 'explore')
  const live = new Set(await listCheckpoints(runDir))
  let names: string[]
  try {
    names = await fsp.readdir(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = CACHE_FILE.exec(name)
    if (m && !live.has(m[1]!)) await fsp.rm(join(dir, name), { force: true })
  }
}

function answer(file: string, cache: DirectionsFile, count: number, cached: boolean): RunDirections {
  return {
    file,
    useEma: cache.useEma,
    checkpoint: cache.checkpoint,
    step: cache.step,
    cached,
    samples: cache.samples,
    featureDim: cache.featureDim,
    latentDim: cache.latentDim,
    ms: cache.ms,
    components: cache.components.slice(0, count)
  }
}

/** The run's principal directions at a checkpoint (the newest good one by default): cached, else computed and cached. */
export async function runDirections(runDir: string, opts: DirectionsOptions = {}): Promise<RunDirections> {
  const count = opts.count ?? 10
  checkDirectionCount(count)
  const samples = opts.samples ?? DEFAULT_SAMPLES
  if (!Number.isInteger(samples) || samples < MIN_SAMPLES || samples > MAX_SAMPLES)
    throw new StudioError('bad-input', `Samples: ${MIN_SAMPLES} to ${MAX_SAMPLES} latents (got ${samples}).`)
  await readRun(runDir)
  const useEma = opts.useEma ?? true
  // The checkpoint read whole (its checksum verified): the cache is tied to that checksum.
  const ckpt = await loadCheckpoint(runDir, opts.checkpoint)
  const file = join(runDir, 'explore', directionsFileName(ckpt.name, useEma))
  if (!opts.recompute) {
    const cache = await readCache(file)
    const sameSamples = opts.samples === undefined || cache?.requestedSamples === samples
    if (cache && cache.checkpointSha256 === ckpt.manifest.sha256 && cache.useEma === useEma && sameSamples) return answer(file, cache, count, true)
  }
  if (opts.signal?.aborted) throw new StudioError('cancelled', 'Finding the directions was cancelled.')

  const started = Date.now()
  const gen = await loadGenerator(runDir, { ...opts, checkpoint: ckpt.name, useEma })
  try {
    const dim = gen.spec.latentDim
    const probe = gen.features(new Float32Array(dim), 1)
    const featureDim = probe.shape[1]
    probe.dispose()
    const n = Math.max(MIN_SAMPLES, Math.min(samples, Math.floor(FEATURE_BUDGET / (4 * featureDim))))
    const latents = new Rng(SAMPLE_SEED).fillNormal(new Float32Array(n * dim), 1)
    const found = await principalDirections(latents, dim, (z, rows) => gen.features(z, rows), {
      components: MAX_DIRECTIONS,
      signal: opts.signal,
      onProgress: opts.onProgress
    })
    const cache: DirectionsFile = {
      formatVersion: DIRECTIONS_FORMAT,
      checkpoint: ckpt.name,
      step: ckpt.manifest.step,
      checkpointSha256: ckpt.manifest.sha256,
      useEma,
      family: gen.family.id,
      layer: 'first block after the latent projection (8×8)',
      latentDim: dim,
      featureDim: found.featureDim,
      requestedSamples: samples,
      samples: found.samples,
      sampleSeed: SAMPLE_SEED,
      totalVariance: compact(found.totalVariance),
      computedAt: new Date().toISOString(),
      ms: Date.now() - started,
      components: found.directions.map((d, i) => {
        const sigma = compact(d.sigma)
        const reach = compact(DIRECTION_RANGE_SIGMAS * d.sigma)
        return {
          component: i + 1,
          vector: Array.from(d.vector, compact),
          variance: compact(d.variance),
          explained: compact(d.explained),
          sigma,
          range: [-reach, reach] as [number, number]
        }
      })
    }
    if (opts.signal?.aborted) throw new StudioError('cancelled', 'Finding the directions was cancelled.')
    await writeJsonAtomic(file, cache)
    await pruneCaches(runDir)
    return answer(file, cache, count, false)
  } finally {
    gen.dispose()
  }
}

/** A direction ready to apply: its vector with the scale in it, and how to name it. */
export interface ResolvedDirection {
  label: string
  /** Scaled: an amount of 1 moves this far. */
  vector: number[]
  component: number | null
  saved: SavedDirection | null
}

/**
 * A direction by reference: a principal component (computed or read from the cache, so this may
 * take a while the first time) or a saved direction by name.
 */
export async function resolveDirection(runDir: string, ref: DirectionRef, opts: DirectionsOptions = {}): Promise<ResolvedDirection> {
  if (ref.name !== undefined) {
    const saved = findSavedDirection(await readSavedDirections(runDir), ref.name)
    const run = await readRun(runDir)
    if (saved.vector.length !== run.config.model.latentDim)
      throw new StudioError('bad-input', `The saved direction “${saved.name}” has ${saved.vector.length} values; this run's generator takes ${run.config.model.latentDim}.`)
    return { label: saved.name, vector: scaledVector(saved), component: saved.component, saved }
  }
  if (!Number.isInteger(ref.component) || ref.component < 1 || ref.component > MAX_DIRECTIONS)
    throw new StudioError('bad-input', `Principal directions are numbered 1 to ${MAX_DIRECTIONS} (got ${ref.component}).`)
  const found = await runDirections(runDir, { ...opts, count: MAX_DIRECTIONS })
  const c = found.components[ref.component - 1]
  if (!c) throw new StudioError('bad-input', `This run has ${found.components.length} principal directions (asked for ${ref.component}).`)
  return { label: `PC${c.component}`, vector: c.vector, component: c.component, saved: null }
}

export interface StripOptions extends DirectionsOptions {
  center: LatentSource
  direction: DirectionRef
  /** Standard deviations along the direction, one image each. */
  amounts: readonly number[]
  truncation?: number
}

/** One image per amount: the centre moved along a direction. Latents are before ψ. */
export async function directionStrip(
  runDir: string,
  opts: StripOptions
): Promise<{ direction: ResolvedDirection; images: { amount: number; latent: number[]; png: Buffer }[]; checkpoint: string; step: number }> {
  if (opts.amounts.length === 0 || opts.amounts.length > 32) throw new StudioError('bad-input', `A strip has 1 to 32 amounts (got ${opts.amounts.length}).`)
  if (opts.amounts.some((a) => !Number.isFinite(a) || Math.abs(a) > 100)) throw new StudioError('bad-input', 'Amounts go from -100 to 100 standard deviations.')
  const run = await readRun(runDir)
  const dim = run.config.model.latentDim
  const direction = await resolveDirection(runDir, opts.direction, opts)
  const base = sourceLatents([opts.center], dim, 1)
  const latents = opts.amounts.map((amount) => applyDirections(base, [{ vector: direction.vector, amount }]))
  const { onProgress: _progress, ...render } = opts
  void _progress
  const r = await renderSources(runDir, latents.map((latent) => ({ latent })), render)
  return { direction, images: opts.amounts.map((amount, i) => ({ amount, latent: latents[i]!, png: r.pngs[i]! })), checkpoint: r.checkpoint, step: r.step }
}
