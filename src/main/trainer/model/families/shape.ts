import type { RunConfig } from '@shared/config'
import type { BaseSpec } from '../family'

/** What every family's shape has in common: tensor-free, like each family's own shape.ts. */

export const MAX_CHANNELS = 512

/** Up-sampling stages from 4×4 to the resolution (32 px: 3). */
export function stagesFor(resolution: number): number {
  const n = Math.log2(resolution) - 2
  if (!Number.isInteger(n) || n < 1) throw new Error(`Unsupported resolution ${resolution}`)
  return n
}

/** The settings every family reads from a run config, with its widths. */
export function baseSpec(config: RunConfig): BaseSpec & { gChannels: number; dChannels: number } {
  return {
    resolution: config.preprocess.resolution,
    latentDim: config.model.latentDim,
    gChannels: config.model.gChannels,
    dChannels: config.model.dChannels,
    mbstd: config.model.mbstd,
    dNorm: config.model.dNorm,
    gNorm: config.model.gNorm
  }
}
