import type { RunConfig } from '@shared/config'
import type { BaseSpec, FamilyCost } from '../../family'
import { baseSpec, MAX_CHANNELS, stagesFor } from '../shape'

export { stagesFor }

/** The DCGAN family's shapes and cost: plain arithmetic, no tensors (the studio's estimate uses it). */

export interface DcganSpec extends BaseSpec {
  gChannels: number
  dChannels: number
  /** The generator's up-steps: free 4×4 transposed convolutions, nearest ×2 + 3×3 (same cost), or that for the last step (to RGB) only. */
  gUpsample: RunConfig['model']['gUpsample']
}

export function dcganSpec(config: RunConfig): DcganSpec {
  return { ...baseSpec(config), gUpsample: config.model.gUpsample }
}

/** Whether an up-step (a hidden one, or the last one, to RGB) upsamples then convolves. */
export const upsamples = (spec: DcganSpec, rgb: boolean): boolean => spec.gUpsample === 'nearest' || (rgb && spec.gUpsample === 'nearest-rgb')

/** Side of an up-step's kernel in the trainer's layout (the 3×3 runs as a tied 4×4). */
export const upKernel = (spec: DcganSpec, rgb: boolean): number => (upsamples(spec, rgb) ? 3 : 4)

/** Channels of the generator's feature maps at 4×4, 8×8, … (one entry per hidden stage). */
export function generatorChannels(spec: DcganSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n }, (_, i) => Math.min(spec.gChannels * 2 ** (n - 1 - i), MAX_CHANNELS))
}

/** Channels after each discriminator conv (at R/2, R/4, …, 4). */
export function discriminatorChannels(spec: DcganSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n }, (_, i) => Math.min(spec.dChannels * 2 ** i, MAX_CHANNELS))
}

export function cost(spec: DcganSpec): FamilyCost {
  const g = generatorChannels(spec)
  let gm = spec.latentDim * 16 * g[0]!
  let size = 4
  for (let i = 1; i < g.length; i++) {
    gm += size * size * 16 * g[i - 1]! * g[i]!
    size *= 2
  }
  gm += size * size * 16 * g[g.length - 1]! * 3
  const d = discriminatorChannels(spec)
  let dm = 0
  let res = spec.resolution
  let inC = 3
  for (const c of d) {
    res /= 2
    dm += res * res * 16 * inC * c
    inC = c
  }
  dm += 16 * (inC + (spec.mbstd ? 1 : 0))
  return { generatorMacs: gm, discriminatorMacs: dm }
}
