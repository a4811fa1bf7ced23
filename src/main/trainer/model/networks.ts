import * as tf from '@tensorflow/tfjs'
import type { Rng } from './rng'

/**
 * DCGAN-style generator and discriminator whose depth follows the resolution.
 *
 * Generator: z → dense → 4×4×c0 → [conv-transpose 4×4 stride 2 → channel norm → ReLU]… →
 *            conv-transpose 4×4 stride 2 to RGB → tanh.
 * Discriminator: [conv 4×4 stride 2 → LeakyReLU 0.2]… down to 4×4 → dense → one logit.
 *
 * The generator normalises each pixel's feature vector over its channels (a layer norm on the
 * channel axis) instead of batch norm, so one seed gives one image whatever else is in the batch,
 * and the network exports as a plain tfjs layers model. Weights are held as named tensors so the
 * trainer, the EMA copy, checkpoints and the exporter share one layout.
 */

export interface NetSpec {
  resolution: number
  latentDim: number
  gChannels: number
  dChannels: number
}

export interface ParamSpec {
  name: string
  shape: number[]
  init: 'normal' | 'zeros' | 'ones'
}

const MAX_CHANNELS = 512
const INIT_STD = 0.02
export const LN_EPSILON = 1e-5
export const LEAKY_SLOPE = 0.2

export function stagesFor(resolution: number): number {
  const n = Math.log2(resolution) - 2
  if (!Number.isInteger(n) || n < 1) throw new Error(`Unsupported resolution ${resolution}`)
  return n
}

/** Channels of the generator's feature maps at 4×4, 8×8, … (one entry per hidden stage). */
export function generatorChannels(spec: NetSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n }, (_, i) => Math.min(spec.gChannels * 2 ** (n - 1 - i), MAX_CHANNELS))
}

/** Channels after each discriminator conv (at R/2, R/4, …, 4). */
export function discriminatorChannels(spec: NetSpec): number[] {
  const n = stagesFor(spec.resolution)
  return Array.from({ length: n }, (_, i) => Math.min(spec.dChannels * 2 ** i, MAX_CHANNELS))
}

export function generatorParams(spec: NetSpec): ParamSpec[] {
  const ch = generatorChannels(spec)
  const c0 = ch[0]!
  const params: ParamSpec[] = [
    { name: 'g/dense/kernel', shape: [spec.latentDim, 16 * c0], init: 'normal' },
    { name: 'g/dense/bias', shape: [16 * c0], init: 'zeros' },
    { name: 'g/norm0/gamma', shape: [c0], init: 'ones' },
    { name: 'g/norm0/beta', shape: [c0], init: 'zeros' }
  ]
  for (let i = 1; i < ch.length; i++) {
    // conv2dTranspose filters are [h, w, outChannels, inChannels]
    params.push({ name: `g/up${i}/kernel`, shape: [4, 4, ch[i]!, ch[i - 1]!], init: 'normal' })
    params.push({ name: `g/up${i}/bias`, shape: [ch[i]!], init: 'zeros' })
    params.push({ name: `g/norm${i}/gamma`, shape: [ch[i]!], init: 'ones' })
    params.push({ name: `g/norm${i}/beta`, shape: [ch[i]!], init: 'zeros' })
  }
  params.push({ name: 'g/rgb/kernel', shape: [4, 4, 3, ch[ch.length - 1]!], init: 'normal' })
  params.push({ name: 'g/rgb/bias', shape: [3], init: 'zeros' })
  return params
}

export function discriminatorParams(spec: NetSpec): ParamSpec[] {
  const ch = discriminatorChannels(spec)
  const params: ParamSpec[] = []
  let inC = 3
  ch.forEach((c, i) => {
    params.push({ name: `d/conv${i}/kernel`, shape: [4, 4, inC, c], init: 'normal' })
    params.push({ name: `d/conv${i}/bias`, shape: [c], init: 'zeros' })
    inC = c
  })
  params.push({ name: 'd/out/kernel', shape: [16 * inC, 1], init: 'normal' })
  params.push({ name: 'd/out/bias', shape: [1], init: 'zeros' })
  return params
}

/** Initial values drawn from our own seeded RNG, so a seed means the same weights on every backend. */
export function initialValue(p: ParamSpec, rng: Rng): Float32Array {
  const size = p.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(size)
  if (p.init === 'normal') rng.fillNormal(out, INIT_STD)
  else if (p.init === 'ones') out.fill(1)
  return out
}

export type Weights = Record<string, tf.Tensor>

/** Layer norm over the channel axis, with a learned per-channel scale and shift. */
export function channelNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPSILON))), gamma), beta) as tf.Tensor4D
}

export function generatorForward(spec: NetSpec, w: Weights, z: tf.Tensor2D): tf.Tensor4D {
  const ch = generatorChannels(spec)
  const batch = z.shape[0]
  let x = tf.reshape(tf.add(tf.matMul(z, w['g/dense/kernel'] as tf.Tensor2D), w['g/dense/bias']!), [batch, 4, 4, ch[0]!]) as tf.Tensor4D
  x = tf.relu(channelNorm(x, w['g/norm0/gamma']!, w['g/norm0/beta']!))
  let size = 4
  for (let i = 1; i < ch.length; i++) {
    size *= 2
    x = tf.conv2dTranspose(x, w[`g/up${i}/kernel`] as tf.Tensor4D, [batch, size, size, ch[i]!], 2, 'same')
    x = tf.add(x, w[`g/up${i}/bias`]!)
    x = tf.relu(channelNorm(x, w[`g/norm${i}/gamma`]!, w[`g/norm${i}/beta`]!))
  }
  size *= 2
  x = tf.conv2dTranspose(x, w['g/rgb/kernel'] as tf.Tensor4D, [batch, size, size, 3], 2, 'same')
  return tf.tanh(tf.add(x, w['g/rgb/bias']!))
}

/** One logit per image. */
export function discriminatorForward(spec: NetSpec, w: Weights, x: tf.Tensor4D): tf.Tensor1D {
  const ch = discriminatorChannels(spec)
  let h = x
  for (let i = 0; i < ch.length; i++) {
    h = tf.conv2d(h, w[`d/conv${i}/kernel`] as tf.Tensor4D, 2, 'same')
    h = tf.leakyRelu(tf.add(h, w[`d/conv${i}/bias`]!), LEAKY_SLOPE)
  }
  const flat = tf.reshape(h, [x.shape[0], -1]) as tf.Tensor2D
  const logit = tf.add(tf.matMul(flat, w['d/out/kernel'] as tf.Tensor2D), w['d/out/bias']!)
  return tf.reshape(logit, [-1]) as tf.Tensor1D
}
