import type * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '@shared/config'
import type { Param } from '../nn/ops'
import type { Tape } from '../nn/tape'

/**
 * The seam between the training machinery and a model family.
 *
 * A family (one folder under `families/`) describes its parameters, its generator and
 * discriminator forward passes written with the engine's ops (nn/ops.ts, which record their own
 * backward on a tape), its extra losses, how it becomes a standard tfjs model for export, and
 * what a step costs. The training step, Adam, the EMA, R1, augmentation, checkpoints,
 * generation, walks, export and the bench work through this interface only.
 */

export interface ParamSpec {
  name: string
  shape: number[]
  /** 'normal' draws N(0, std²) (std default 0.02); 'fanIn' draws N(0, gain²/fanIn) with fanIn = ∏shape[:-1]. */
  init: 'normal' | 'zeros' | 'ones' | 'fanIn'
  std?: number
  gain?: number
  /** fanIn counted over the shape without this axis (transposed convs keep inputs last). */
  fanInAxes?: number[]
}

/** Looks parameters up by name for a forward pass. */
export type Params = (name: string) => Param

/** What the discriminator returns: logits, and whatever its family's extra losses need. */
export interface DiscriminatorOutput {
  /** [N] (one logit per image) or [N, h, w] / [N, h, w, 1] (a patch of logits). */
  logits: tf.Tensor
  /** Extra outputs (e.g. reconstructions) keyed by name; only on real images. */
  extras: Record<string, tf.Tensor>
}

export interface ExtraLoss {
  /** Added to the discriminator's loss for logging. */
  value: tf.Scalar
  /** [output, ∂loss/∂output] pairs to backpropagate through the discriminator's tape. */
  seeds: [tf.Tensor, tf.Tensor][]
}

export interface GenerateContext {
  /** True in the training step. */
  training: boolean
  /** One seed per image for the family's own randomness (noise) in training; absent at inference. */
  imageSeeds?: Uint32Array
}

export interface LossContext {
  /** Images in the whole batch (a data-parallel shard normalises by this, not its own size). */
  total: number
  imageSeeds: Uint32Array
}

export interface FamilyCost {
  /** Multiply–accumulates of one generator forward pass, per image. */
  generatorMacs: number
  /** Multiply–accumulates of one discriminator forward pass, per image (extras included). */
  discriminatorMacs: number
}

export interface ModelFamily<S extends BaseSpec = BaseSpec> {
  readonly id: string
  /** One line for people: what this family is. */
  readonly description: string
  spec(config: RunConfig): S
  generatorParams(spec: S): ParamSpec[]
  discriminatorParams(spec: S): ParamSpec[]
  /** Images in [-1, 1], NHWC, for latents z [N, latentDim]. */
  generate(spec: S, p: Params, z: tf.Tensor2D, tape: Tape | null, ctx: GenerateContext): tf.Tensor4D
  /** `real` asks for the extras the family's losses use on real images. */
  discriminate(spec: S, p: Params, x: tf.Tensor4D, tape: Tape | null, real: boolean): DiscriminatorOutput
  /** Losses beyond the adversarial one, on real images' discriminator outputs (e.g. reconstruction). */
  extraDiscriminatorLoss?(spec: S, real: tf.Tensor4D, out: DiscriminatorOutput, ctx: LossContext): ExtraLoss | null
  /**
   * True when the discriminator returns one logit per image and no operation mixes samples: the
   * step can then get the generator's and the discriminator's gradients on generated images from
   * one backward pass (tape.ts explains how).
   */
  perSampleDiscriminator(spec: S): boolean
  /**
   * The generator's early features for latents z [N, latentDim], flattened to [N, D]: the output of
   * the first block after the latent projection (8×8 maps), at inference (no training noise). What
   * principal directions are computed on (GANSpace: PCA of early features, regressed back to z).
   */
  earlyFeatures?(spec: S, p: Params, z: tf.Tensor2D): tf.Tensor2D
  /** The generator as a standard tfjs layers model with these weights (for export and the offline page). */
  exportGenerator(spec: S, values: Record<string, { shape: number[]; data: Float32Array }>): tf.LayersModel
  cost(spec: S): FamilyCost
}

export interface BaseSpec {
  resolution: number
  latentDim: number
  /** Minibatch standard deviation before the discriminator's last layer. */
  mbstd: boolean
  /** Batch norm in the discriminator's hidden layers. */
  dNorm: 'none' | 'batch'
  /** Per-pixel channel norm in the generator, or none. */
  gNorm: 'channel' | 'none'
}
