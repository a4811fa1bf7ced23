import * as tf from '@tensorflow/tfjs'
import type { BackendRequest } from '@shared/config'
import { StudioError } from '@shared/errors'
import type { RunJson } from '@shared/runs'
import { SEED_MAX } from '@shared/config'
import type { BaseSpec, ModelFamily } from '../trainer/model/family'
import { familyFor } from '../trainer/model/families'
import type { Param } from '../trainer/nn/ops'
import { loadCheckpoint, type LoadedCheckpoint } from '../trainer/run/checkpoint'
import { readRun } from '../trainer/run/runs'
import { initBackend } from '../trainer/tf/backends'
import { TRUNCATION_MAX, TRUNCATION_MIN } from './latent'

/**
 * A run's generator, loaded from a checkpoint for making images (not for training): only the
 * generator's weights (the EMA copy by default), no discriminator or optimizer state.
 */

export interface BackendChoice {
  /** Compute backend; default: keep the one already active, else `auto` (which may use cpu here). */
  backend?: BackendRequest
  /** Calibration cache for `auto` (e.g. `<home>/cache/backends.json`). */
  backendCacheFile?: string
}

export interface GeneratorSource extends BackendChoice {
  /** Checkpoint folder name (`step-NNNNNN`); default: the newest good one. */
  checkpoint?: string
  /** The EMA generator (default), or the raw trained one. */
  useEma?: boolean
}

export interface LoadedGenerator {
  runDir: string
  run: RunJson
  checkpoint: string
  step: number
  family: ModelFamily
  spec: BaseSpec
  useEma: boolean
  /** Generator weights by parameter name (`g/...`, without the `ema/` prefix). */
  weights: Record<string, tf.Tensor>
  /** Images for `count` latents (row-major, latentDim each): NHWC float32 in [-1, 1]. */
  render(latents: Float32Array, count: number): Promise<Float32Array>
  /** The family's early features for `count` latents, [count, D] (the caller disposes it); for principal directions. */
  features(latents: Float32Array, count: number): tf.Tensor2D
  dispose(): void
}

/** Rows per forward pass: bounded memory whatever the request size. */
const BATCH = 16

/**
 * Makes sure a tfjs backend is active. An explicit request is honoured (or fails clearly); with
 * none, the backend already active is kept, else `auto` picks one — cpu allowed, since generating
 * a few images is small work, unlike training.
 */
export async function ensureBackend(choice: BackendChoice = {}): Promise<string> {
  // One switch at a time: two requests arriving together must not calibrate or switch in parallel.
  const previous = backendSwitch
  const next = previous.then(async () => {
    const active = (tf.engine() as unknown as { backendName: string | null }).backendName
    if (choice.backend && choice.backend !== 'auto') {
      if (active !== choice.backend) await initBackend(choice.backend, { allowCpu: true })
    } else if (!active || (choice.backend === 'auto' && !autoChosen.has(active))) {
      const record = await initBackend('auto', { allowCpu: true, cacheFile: choice.backendCacheFile })
      autoChosen.add(record.used)
    }
    return tf.getBackend()
  })
  backendSwitch = next.catch(() => undefined)
  return next
}

/** The process-wide tfjs backend is a singleton; these only serialise switching it. */
let backendSwitch: Promise<unknown> = Promise.resolve()
/** Backends `auto` already chose in this process (so `auto` is not re-run for every request). */
const autoChosen = new Set<string>()

export function checkSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new StudioError('bad-input', 'No seeds given.')
  for (const s of seeds)
    if (!Number.isInteger(s) || s < 0 || s > SEED_MAX) throw new StudioError('bad-input', `Seed ${s} is out of range (0 to ${SEED_MAX}).`)
}

export function checkTruncation(psi: number): void {
  if (!Number.isFinite(psi) || psi < TRUNCATION_MIN || psi > TRUNCATION_MAX)
    throw new StudioError('bad-input', `Truncation ψ must be between ${TRUNCATION_MIN} and ${TRUNCATION_MAX} (got ${psi}).`)
}

export function familyOf(config: RunJson['config']): { family: ModelFamily; spec: BaseSpec } {
  const family = familyFor(config.model.arch)
  return { family, spec: family.spec(config) }
}

/** The generator's weights from a loaded checkpoint, checked against the spec its config implies. */
export function generatorWeightsFrom(
  ckpt: LoadedCheckpoint,
  useEma: boolean
): { family: ModelFamily; spec: BaseSpec; values: Record<string, { shape: number[]; data: Float32Array }> } {
  const { family, spec } = familyOf(ckpt.manifest.config)
  const prefix = useEma ? 'ema/' : ''
  const values: Record<string, { shape: number[]; data: Float32Array }> = {}
  for (const p of family.generatorParams(spec)) {
    const t = ckpt.tensors[prefix + p.name]
    if (!t)
      throw new StudioError(
        'bad-input',
        `Checkpoint ${ckpt.name} has no ${useEma ? 'EMA generator' : 'generator'} weights (${prefix + p.name} is missing).`
      )
    if (t.shape.join('x') !== p.shape.join('x'))
      throw new StudioError('bad-input', `Checkpoint ${ckpt.name}: ${prefix + p.name} has shape ${t.shape.join('×')}, expected ${p.shape.join('×')}.`)
    values[p.name] = t
  }
  return { family, spec, values }
}

/** Loads a run's generator. Unknown run folder or missing checkpoint: a StudioError saying which. */
export async function loadGenerator(runDir: string, source: GeneratorSource = {}): Promise<LoadedGenerator> {
  const run = await readRun(runDir)
  const ckpt = await loadCheckpoint(runDir, source.checkpoint)
  const useEma = source.useEma ?? true
  const { family, spec, values } = generatorWeightsFrom(ckpt, useEma)
  await ensureBackend(source)
  const weights: Record<string, tf.Tensor> = {}
  for (const [name, t] of Object.entries(values)) weights[name] = tf.tensor(t.data, t.shape)
  const size = spec.resolution * spec.resolution * 3

  return {
    runDir,
    run,
    checkpoint: ckpt.name,
    step: ckpt.manifest.step,
    family,
    spec,
    useEma,
    weights,
    async render(latents, count) {
      const dim = spec.latentDim
      if (latents.length !== count * dim) throw new Error(`expected ${count}×${dim} latent values, got ${latents.length}`)
      const out = new Float32Array(count * size)
      for (let start = 0; start < count; start += BATCH) {
        const n = Math.min(BATCH, count - start)
        const lookup = (name: string): Param => ({ name, value: weights[name]! })
        const images = tf.tidy(() => family.generate(spec, lookup, tf.tensor2d(latents.subarray(start * dim, (start + n) * dim), [n, dim]), null, { training: false }))
        try {
          out.set((await images.data()) as Float32Array, start * size)
        } finally {
          images.dispose()
        }
      }
      return out
    },
    features(latents, count) {
      const dim = spec.latentDim
      if (latents.length !== count * dim) throw new Error(`expected ${count}×${dim} latent values, got ${latents.length}`)
      const early = family.earlyFeatures
      if (!early) throw new StudioError('bad-input', `The ${family.id} model family has no early features to find directions in.`)
      const lookup = (name: string): Param => ({ name, value: weights[name]! })
      return tf.tidy(() => early(spec, lookup, tf.tensor2d(latents, [count, dim])))
    },
    dispose() {
      tf.dispose(Object.values(weights))
    }
  }
}
