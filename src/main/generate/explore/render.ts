import { StudioError } from '@shared/errors'
import { toUint8 } from '../../trainer/run/grid'
import { checkTruncation, loadGenerator, type GeneratorSource, type LoadedGenerator } from '../generator'
import { rgbPng } from '../images'
import { itemLatent } from './collection-export'

/** What explore tools render: a seed, or a latent (before truncation ψ). */
export type LatentSource = { seed: number; latent?: undefined } | { latent: readonly number[]; seed?: undefined }

export const MAX_RENDER = 256

/** The latents of the sources (ψ applied), one row each. */
export function sourceLatents(sources: readonly LatentSource[], dim: number, psi: number): Float32Array {
  const out = new Float32Array(sources.length * dim)
  sources.forEach((s, i) => {
    const z = itemLatent({ seed: s.seed ?? null, latent: s.latent ? [...s.latent] : null }, dim)
    for (let k = 0; k < dim; k++) out[i * dim + k] = z[k]! * psi
  })
  return out
}

/** PNGs (training resolution) for rows of latents already scaled by ψ. */
export async function renderPngs(gen: LoadedGenerator, latents: Float32Array, count: number): Promise<Buffer[]> {
  const res = gen.spec.resolution
  const size = res * res * 3
  const pixels = toUint8(await gen.render(latents, count))
  const out: Buffer[] = []
  for (let i = 0; i < count; i++) out.push(await rgbPng(pixels.subarray(i * size, (i + 1) * size), res))
  return out
}

/** Images for seeds and stored latents from one checkpoint (the newest by default). */
export async function renderSources(
  runDir: string,
  sources: readonly LatentSource[],
  opts: GeneratorSource & { truncation?: number; signal?: AbortSignal } = {}
): Promise<{ pngs: Buffer[]; checkpoint: string; step: number }> {
  if (sources.length === 0 || sources.length > MAX_RENDER) throw new StudioError('bad-input', `Render 1 to ${MAX_RENDER} images at a time (asked for ${sources.length}).`)
  const psi = opts.truncation ?? 1
  checkTruncation(psi)
  const gen = await loadGenerator(runDir, opts)
  try {
    if (opts.signal?.aborted) throw new StudioError('cancelled', 'The images were cancelled.')
    const pngs = await renderPngs(gen, sourceLatents(sources, gen.spec.latentDim, psi), sources.length)
    return { pngs, checkpoint: gen.checkpoint, step: gen.step }
  } finally {
    gen.dispose()
  }
}
