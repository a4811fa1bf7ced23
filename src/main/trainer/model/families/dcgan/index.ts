import * as tf from '@tensorflow/tfjs'
import * as ops from '../../../nn/ops'
import type { Tape } from '../../../nn/tape'
import type { DiscriminatorOutput, ModelFamily, Params, ParamSpec } from '../../family'
import { cost, dcganSpec, discriminatorChannels, generatorChannels, upKernel, upsamples, type DcganSpec } from './shape'

export { discriminatorChannels, generatorChannels, stagesFor, type DcganSpec } from './shape'

/**
 * DCGAN whose depth follows the resolution.
 *
 * Generator: z → dense → 4×4×c0 → channel norm → ReLU → [up-step → channel norm → ReLU]… →
 * up-step to RGB → tanh. An up-step is a 4×4 stride-2 transposed conv (`gUpsample: transposed`,
 * the original) or nearest ×2 upsampling + a 3×3 conv (`nearest`: no checkerboard, run as a tied
 * transposed conv at the same cost, nn/ops.ts upConv); `nearest-rgb` upsamples at the last step
 * only, where a transposed conv's uneven overlap shows as a pixel checkerboard. The norm is over each pixel's channels, not
 * the batch, so one seed gives one image whatever else is in the batch.
 * Discriminator: [4×4 stride-2 conv → LeakyReLU 0.2]… down to 4×4 → dense → one logit.
 */

function generatorParams(spec: DcganSpec): ParamSpec[] {
  const ch = generatorChannels(spec)
  const c0 = ch[0]!
  const params: ParamSpec[] = [
    { name: 'g/dense/kernel', shape: [spec.latentDim, 16 * c0], init: 'normal' },
    { name: 'g/dense/bias', shape: [16 * c0], init: 'zeros' }
  ]
  const norm = (i: number, c: number): void => {
    if (spec.gNorm !== 'channel') return
    params.push({ name: `g/norm${i}/gamma`, shape: [c], init: 'ones' })
    params.push({ name: `g/norm${i}/beta`, shape: [c], init: 'zeros' })
  }
  norm(0, c0)
  const k = upKernel(spec, false)
  for (let i = 1; i < ch.length; i++) {
    // conv2dTranspose and upConv filters are [h, w, outChannels, inChannels]
    params.push({ name: `g/up${i}/kernel`, shape: [k, k, ch[i]!, ch[i - 1]!], init: 'normal' })
    params.push({ name: `g/up${i}/bias`, shape: [ch[i]!], init: 'zeros' })
    norm(i, ch[i]!)
  }
  const kRgb = upKernel(spec, true)
  params.push({ name: 'g/rgb/kernel', shape: [kRgb, kRgb, 3, ch[ch.length - 1]!], init: 'normal' })
  params.push({ name: 'g/rgb/bias', shape: [3], init: 'zeros' })
  return params
}

function discriminatorParams(spec: DcganSpec): ParamSpec[] {
  const ch = discriminatorChannels(spec)
  const params: ParamSpec[] = []
  let inC = 3
  ch.forEach((c, i) => {
    params.push({ name: `d/conv${i}/kernel`, shape: [4, 4, inC, c], init: 'normal' })
    params.push({ name: `d/conv${i}/bias`, shape: [c], init: 'zeros' })
    if (spec.dNorm === 'batch' && i > 0) {
      params.push({ name: `d/bn${i}/gamma`, shape: [c], init: 'ones' })
      params.push({ name: `d/bn${i}/beta`, shape: [c], init: 'zeros' })
    }
    inC = c
  })
  params.push({ name: 'd/out/kernel', shape: [16 * (inC + (spec.mbstd ? 1 : 0)), 1], init: 'normal' })
  params.push({ name: 'd/out/bias', shape: [1], init: 'zeros' })
  return params
}

/** One of the generator's up-steps (see the header). */
function upStep(spec: DcganSpec, rgb: boolean, tape: Tape | null, x: tf.Tensor4D, w: ops.Param, b: ops.Param, opts: ops.ConvOptions = {}): tf.Tensor4D {
  return upsamples(spec, rgb) ? ops.upConv(tape, x, w, b, opts) : ops.conv2dTranspose(tape, x, w, b, opts)
}

/** The generator's feature maps after hidden stage `last` (0: the 4×4 maps of the projection). */
function hidden(spec: DcganSpec, p: Params, z: tf.Tensor2D, tape: Tape | null, last: number): tf.Tensor4D {
  const ch = generatorChannels(spec)
  const batch = z.shape[0]
  const h = ops.dense(tape, z, p('g/dense/kernel'), p('g/dense/bias'))
  let x = ops.reshape<tf.Rank.R4>(tape, h, [batch, 4, 4, ch[0]!])
  const norm = (t: tf.Tensor4D, i: number): tf.Tensor4D =>
    spec.gNorm === 'channel' ? (ops.channelNorm(tape, t, p(`g/norm${i}/gamma`), p(`g/norm${i}/beta`)) as tf.Tensor4D) : t
  x = ops.activation(tape, norm(x, 0), 'relu') as tf.Tensor4D
  for (let i = 1; i <= last; i++) {
    x = upStep(spec, false, tape, x, p(`g/up${i}/kernel`), p(`g/up${i}/bias`))
    x = ops.activation(tape, norm(x, i), 'relu') as tf.Tensor4D
  }
  return x
}

function generate(spec: DcganSpec, p: Params, z: tf.Tensor2D, tape: Tape | null): tf.Tensor4D {
  const x = hidden(spec, p, z, tape, generatorChannels(spec).length - 1)
  return upStep(spec, true, tape, x, p('g/rgb/kernel'), p('g/rgb/bias'), { act: 'tanh' })
}

/** The 8×8 maps of the first up-block (the 4×4 projection when the generator has no hidden up-block), flattened. */
function earlyFeatures(spec: DcganSpec, p: Params, z: tf.Tensor2D): tf.Tensor2D {
  const x = hidden(spec, p, z, null, Math.min(1, generatorChannels(spec).length - 1))
  return ops.reshape<tf.Rank.R2>(null, x, [z.shape[0], -1])
}

function discriminate(spec: DcganSpec, p: Params, x: tf.Tensor4D, tape: Tape | null): DiscriminatorOutput {
  const ch = discriminatorChannels(spec)
  let h = x
  for (let i = 0; i < ch.length; i++) {
    if (spec.dNorm === 'batch' && i > 0) {
      h = ops.conv2d(tape, h, p(`d/conv${i}/kernel`), p(`d/conv${i}/bias`), { stride: 2, pad: 1 })
      h = ops.activation(tape, ops.batchNorm(tape, h, p(`d/bn${i}/gamma`), p(`d/bn${i}/beta`)), 'leakyrelu') as tf.Tensor4D
    } else h = ops.conv2d(tape, h, p(`d/conv${i}/kernel`), p(`d/conv${i}/bias`), { stride: 2, pad: 1, act: 'leakyrelu' })
  }
  if (spec.mbstd) h = ops.mbstd(tape, h)
  const flat = ops.reshape<tf.Rank.R2>(tape, h, [x.shape[0], -1])
  const logit = ops.dense(tape, flat, p('d/out/kernel'), p('d/out/bias'))
  return { logits: ops.reshape<tf.Rank.R1>(tape, logit, [x.shape[0]]), extras: {} }
}

/**
 * The generator as a sequential tfjs layers model: dense → reshape → layerNormalization(axis −1)
 * → relu → [conv2dTranspose 4×4 s2 same → layerNormalization → relu]… → conv2dTranspose to RGB,
 * tanh. The weight layouts are the same as the trainer's, so weights copy over as they are; a
 * `nearest` generator's 3×3 kernels are exported as the tied 4×4 kernels the trainer runs.
 */
function exportGenerator(spec: DcganSpec, values: Record<string, { shape: number[]; data: Float32Array }>): tf.LayersModel {
  const ch = generatorChannels(spec)
  const c0 = ch[0]!
  const model = tf.sequential({ name: 'gan_studio_generator' })
  const norm = (i: number): tf.layers.Layer => tf.layers.layerNormalization({ axis: -1, epsilon: ops.NORM_EPSILON, name: `norm${i}` })
  const relu = (i: number): tf.layers.Layer => tf.layers.activation({ activation: 'relu', name: `relu${i}` })
  model.add(tf.layers.dense({ inputShape: [spec.latentDim], units: 16 * c0, name: 'dense' }))
  model.add(tf.layers.reshape({ targetShape: [4, 4, c0], name: 'reshape' }))
  const withNorm = spec.gNorm === 'channel'
  if (withNorm) model.add(norm(0))
  model.add(relu(0))
  for (let i = 1; i < ch.length; i++) {
    model.add(tf.layers.conv2dTranspose({ filters: ch[i]!, kernelSize: 4, strides: 2, padding: 'same', name: `up${i}` }))
    if (withNorm) model.add(norm(i))
    model.add(relu(i))
  }
  model.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh', name: 'rgb' }))
  const t = (name: string): tf.Tensor => {
    const v = values[name]
    if (!v) throw new Error(`generator weight ${name} is missing`)
    return tf.tensor(v.data, v.shape)
  }
  /** An up-step's kernel as conv2dTranspose runs it: a 3×3 upsample + conv kernel becomes its tied 4×4. */
  const upKernelOf = (name: string, rgb: boolean): tf.Tensor => {
    const w = t(name)
    if (!upsamples(spec, rgb)) return w
    const w4 = ops.tiedUpconvKernel(w)
    w.dispose()
    return w4
  }
  const assign = (layer: string, tensors: tf.Tensor[]): void => {
    model.getLayer(layer).setWeights(tensors)
    tf.dispose(tensors)
  }
  assign('dense', [t('g/dense/kernel'), t('g/dense/bias')])
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) assign(`up${i}`, [upKernelOf(`g/up${i}/kernel`, false), t(`g/up${i}/bias`)])
    if (withNorm) assign(`norm${i}`, [t(`g/norm${i}/gamma`), t(`g/norm${i}/beta`)])
  }
  assign('rgb', [upKernelOf('g/rgb/kernel', true), t('g/rgb/bias')])
  return model
}

export const dcgan: ModelFamily<DcganSpec> = {
  id: 'dcgan',
  description: 'DCGAN: transposed convolutions up, strided convolutions down, one logit per image',
  spec: dcganSpec,
  generatorParams,
  discriminatorParams,
  generate: (spec, p, z, tape) => generate(spec, p, z, tape),
  discriminate: (spec, p, x, tape) => discriminate(spec, p, x, tape),
  perSampleDiscriminator: (spec) => !spec.mbstd && spec.dNorm === 'none',
  earlyFeatures,
  exportGenerator,
  cost
}
