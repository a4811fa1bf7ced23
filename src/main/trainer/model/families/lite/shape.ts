import type { RunConfig } from '@shared/config'
import type { BaseSpec, FamilyCost } from '../../family'
import { baseSpec, MAX_CHANNELS, stagesFor } from '../shape'

/** The lite family's shapes and cost: plain arithmetic, no tensors (the studio's estimate uses it). */

export interface LiteSpec extends BaseSpec {
  /** Generator channels at full resolution (doubling towards 4×4, capped at 512). */
  gChannels: number
  /** Discriminator channels after the first down-block (doubling towards 4×4, capped at 512). */
  dChannels: number
  /** Weight of the reconstruction loss. */
  reconWeight: number
}

export function liteSpec(config: RunConfig): LiteSpec {
  return { ...baseSpec(config), reconWeight: 1 }
}

/** Generator channels at 4×4, 8×8, …, R×R. */
export function generatorWidths(spec: LiteSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n + 1 }, (_, i) => Math.min(spec.gChannels * 2 ** (n - i), MAX_CHANNELS))
}

/** Discriminator channels after each down-block (R/2, …, 4). */
export function discriminatorWidths(spec: LiteSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n }, (_, i) => Math.min(spec.dChannels * 2 ** i, MAX_CHANNELS))
}

/** Skip-layer excitation pairs: [small stage index, big stage index] (stage i is 4·2^i px). */
export function slePairs(spec: LiteSpec): [number, number][] {
  const n = stagesFor(spec.resolution)
  const pairs: [number, number][] = []
  for (let big = 3; big <= n; big++) pairs.push([big - 3, big])
  return pairs
}

export function cost(spec: LiteSpec): FamilyCost {
  const w = generatorWidths(spec)
  let g = spec.latentDim * 16 * 2 * w[0]!
  let size = 4
  for (let i = 1; i < w.length; i++) {
    g += size * size * 16 * w[i - 1]! * 2 * w[i]! // the tied 4×4 transposed conv
    size *= 2
  }
  for (const [small, big] of slePairs(spec)) g += 16 * w[small]! * w[big]! + w[big]! * w[big]!
  g += size * size * 9 * w[w.length - 1]! * 3
  const d = discriminatorWidths(spec)
  const first = Math.max(8, d[0]! / 2)
  let res = spec.resolution
  let dm = res * res * 9 * 3 * first
  let inC = first
  for (const c of d) {
    res /= 2
    dm += res * res * (16 * inC * c + 9 * c * c + inC * c)
    inC = c
  }
  dm += 16 * (inC + (spec.mbstd ? 1 : 0))
  return { generatorMacs: g, discriminatorMacs: dm }
}
