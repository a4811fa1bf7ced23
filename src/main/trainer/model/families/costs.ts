import type { ModelArch, RunConfig } from '@shared/config'
import type { FamilyCost } from '../family'
import { cost as dcganCost, dcganSpec } from './dcgan/shape'
import { cost as liteCost, liteSpec } from './lite/shape'

/**
 * What one image costs each family, from the config alone: tensor-free, so the studio's time
 * estimate can use it without loading TensorFlow.js. One entry per family (as in index.ts).
 */
const COSTS: Record<ModelArch, (config: RunConfig) => FamilyCost> = {
  dcgan: (config) => dcganCost(dcganSpec(config)),
  lite: (config) => liteCost(liteSpec(config))
}

export function familyCost(config: RunConfig): FamilyCost {
  return COSTS[config.model.arch](config)
}

/**
 * Multiply–accumulates per image of one training step: the generator forward and backward (×3),
 * the discriminator forward and backward on real and generated images (×6), and the lazy R1
 * penalty's double backward through the discriminator on real images, spread over its interval.
 */
export function stepMacsPerImage(config: RunConfig): number {
  const { generatorMacs: g, discriminatorMacs: d } = familyCost(config)
  const r1 = config.loss.r1Gamma > 0 ? (6 * d) / config.loss.r1Every : 0
  return 3 * g + 6 * d + r1
}
