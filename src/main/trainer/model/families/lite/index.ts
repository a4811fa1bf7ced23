import * as tf from '@tensorflow/tfjs'
import * as ops from '../../../nn/ops'
import type { Tape } from '../../../nn/tape'
import { Rng } from '../../rng'
import type { DiscriminatorOutput, ExtraLoss, GenerateContext, LossContext, ModelFamily, Params, ParamSpec } from '../../family'
import { cost, discriminatorWidths, generatorWidths, liteSpec, slePairs, type LiteSpec } from './shape'

export { discriminatorWidths, generatorWidths, type LiteSpec } from './shape'

/**
 * `lite`: the FastGAN recipe (Liu et al. 2021) sized for small data and little compute.
 *
 * Generator: z → dense → 4×4 → [nearest ×2 upsampling + 3×3 conv → channel norm → noise → GLU]
 * per stage up to the resolution → 3×3 conv to RGB → tanh. No free transposed convolutions, so
 * no checkerboard (the upsample + conv runs as a tied 4×4 transposed conv: nn/ops.ts upConv).
 * Skip-layer excitation: the 4×4 features gate the channels of the 32×32 stage (8×8 → 64×64, …),
 * so the coarse layout steers the fine one. Noise is injected during training only.
 *
 * Discriminator: a 3×3 conv, then residual down-blocks (4×4 stride-2 conv + 3×3 conv, beside
 * 2×2 average pooling + 1×1 conv) to 4×4, a 3×3 conv and one logit per image; on real images a
 * small decoder rebuilds a downscaled copy of the image from the 8×8 features, and the
 * reconstruction error (mean squared) joins the discriminator's loss, a self-supervised task
 * that keeps D's features general on small folders.
 */


const DECODER_SIZE = 32
const NOISE_STD = 1





/** Decoder stages from the 8×8 features to min(R, 32) px. */
function decoderWidths(spec: LiteSpec): number[] {
  const d = discriminatorWidths(spec)
  const c8 = d[d.length - 2] ?? d[0]!
  const size = Math.min(spec.resolution, DECODER_SIZE)
  const steps = Math.log2(size / 8)
  return Array.from({ length: steps }, (_, i) => Math.max(16, Math.floor(c8 / 2 ** (i + 1))))
}

const conv = (name: string, kh: number, inC: number, outC: number): ParamSpec[] => [
  { name: `${name}/kernel`, shape: [kh, kh, inC, outC], init: 'normal' },
  { name: `${name}/bias`, shape: [outC], init: 'zeros' }
]
const norm = (name: string, c: number): ParamSpec[] => [
  { name: `${name}/gamma`, shape: [c], init: 'ones' },
  { name: `${name}/beta`, shape: [c], init: 'zeros' }
]

function generatorParams(spec: LiteSpec): ParamSpec[] {
  const w = generatorWidths(spec)
  const params: ParamSpec[] = [
    { name: 'g/dense/kernel', shape: [spec.latentDim, 16 * 2 * w[0]!], init: 'normal' },
    { name: 'g/dense/bias', shape: [16 * 2 * w[0]!], init: 'zeros' },
    ...(spec.gNorm === 'channel' ? norm('g/norm0', 2 * w[0]!) : [])
  ]
  for (let i = 1; i < w.length; i++) {
    // upConv kernels are [3, 3, out, in] (the transposed-conv layout).
    params.push({ name: `g/up${i}/kernel`, shape: [3, 3, 2 * w[i]!, w[i - 1]!], init: 'normal' })
    params.push({ name: `g/up${i}/bias`, shape: [2 * w[i]!], init: 'zeros' })
    if (spec.gNorm === 'channel') params.push(...norm(`g/norm${i}`, 2 * w[i]!))
    params.push({ name: `g/noise${i}/strength`, shape: [2 * w[i]!], init: 'zeros' })
  }
  for (const [small, big] of slePairs(spec)) {
    params.push(...conv(`g/sle${big}/a`, 4, w[small]!, w[big]!))
    params.push(...conv(`g/sle${big}/b`, 1, w[big]!, w[big]!))
  }
  params.push(...conv('g/rgb', 3, w[w.length - 1]!, 3))
  return params
}

function discriminatorParams(spec: LiteSpec): ParamSpec[] {
  const d = discriminatorWidths(spec)
  const first = Math.max(8, d[0]! / 2)
  const params: ParamSpec[] = [...conv('d/in', 3, 3, first)]
  let inC = first
  d.forEach((c, i) => {
    params.push(...conv(`d/down${i}/a`, 4, inC, c))
    params.push(...conv(`d/down${i}/b`, 3, c, c))
    params.push(...conv(`d/down${i}/skip`, 1, inC, c))
    inC = c
  })
  params.push(...conv('d/logit', 4, inC + (spec.mbstd ? 1 : 0), 1))
  let c = d[d.length - 2] ?? d[0]!
  decoderWidths(spec).forEach((out, i) => {
    params.push({ name: `d/dec${i}/kernel`, shape: [3, 3, out, c], init: 'normal' })
    params.push({ name: `d/dec${i}/bias`, shape: [out], init: 'zeros' })
    c = out
  })
  params.push(...conv('d/decrgb', 3, c, 3))
  return params
}

/** Noise maps [n, h, w, 1] for training, one stream per image seed and stage. */
function noiseFor(seeds: Uint32Array, stage: number, size: number): tf.Tensor4D {
  const per = size * size
  const out = new Float32Array(seeds.length * per)
  seeds.forEach((s, b) => new Rng((s ^ Math.imul(stage + 1, 0x9e3779b1)) >>> 0).fillNormal(out.subarray(b * per, (b + 1) * per), NOISE_STD))
  return tf.tensor4d(out, [seeds.length, size, size, 1])
}

function generate(spec: LiteSpec, p: Params, z: tf.Tensor2D, tape: Tape | null, ctx: GenerateContext): tf.Tensor4D {
  const x = stages(spec, p, z, tape, ctx, generatorWidths(spec).length - 1)
  return ops.conv2d(tape, x, p('g/rgb/kernel'), p('g/rgb/bias'), { act: 'tanh' })
}

/** The 8×8 maps of the first up-stage (after its GLU), flattened; no noise (inference). */
function earlyFeatures(spec: LiteSpec, p: Params, z: tf.Tensor2D): tf.Tensor2D {
  const x = stages(spec, p, z, null, { training: false }, Math.min(1, generatorWidths(spec).length - 1))
  return ops.reshape<tf.Rank.R2>(null, x, [z.shape[0], -1])
}

/** The generator's feature maps after stage `last` (0: the 4×4 maps of the projection). */
function stages(spec: LiteSpec, p: Params, z: tf.Tensor2D, tape: Tape | null, ctx: GenerateContext, last: number): tf.Tensor4D {
  const w = generatorWidths(spec)
  const batch = z.shape[0]
  const h = ops.dense(tape, z, p('g/dense/kernel'), p('g/dense/bias'))
  let x = ops.reshape<tf.Rank.R4>(tape, h, [batch, 4, 4, 2 * w[0]!])
  const norm = (t: tf.Tensor4D, name: string): tf.Tensor4D =>
    spec.gNorm === 'channel' ? (ops.channelNorm(tape, t, p(`g/${name}/gamma`), p(`g/${name}/beta`)) as tf.Tensor4D) : t
  x = ops.glu(tape, norm(x, 'norm0'))
  const feats: tf.Tensor4D[] = [x]
  const sle = new Map(slePairs(spec).map(([small, big]) => [big, small]))
  for (let i = 1; i <= last; i++) {
    x = ops.upConv(tape, x, p(`g/up${i}/kernel`), p(`g/up${i}/bias`))
    x = norm(x, `norm${i}`)
    if (ctx.training && ctx.imageSeeds) x = ops.noiseInject(tape, x, noiseFor(ctx.imageSeeds, i, x.shape[1]), p(`g/noise${i}/strength`))
    x = ops.glu(tape, x)
    const small = sle.get(i)
    if (small !== undefined) {
      let s = feats[small]!
      while (s.shape[1] > 4) s = ops.avgPool2(tape, s)
      const a = ops.conv2d(tape, s, p(`g/sle${i}/a/kernel`), p(`g/sle${i}/a/bias`), { pad: 'valid', act: 'leakyrelu', alpha: 0.1 })
      const g = ops.conv2d(tape, a, p(`g/sle${i}/b/kernel`), p(`g/sle${i}/b/bias`), { act: 'sigmoid' })
      x = ops.gate(tape, x, g)
    }
    feats.push(x)
  }
  return x
}

function discriminate(spec: LiteSpec, p: Params, x: tf.Tensor4D, tape: Tape | null, real: boolean): DiscriminatorOutput {
  const d = discriminatorWidths(spec)
  const leaky = { act: 'leakyrelu' as const }
  let h = ops.conv2d(tape, x, p('d/in/kernel'), p('d/in/bias'), leaky)
  let at8: tf.Tensor4D | null = null
  for (let i = 0; i < d.length; i++) {
    const main = ops.conv2d(tape, ops.conv2d(tape, h, p(`d/down${i}/a/kernel`), p(`d/down${i}/a/bias`), { stride: 2, pad: 1, ...leaky }), p(`d/down${i}/b/kernel`), p(`d/down${i}/b/bias`), leaky)
    const skip = ops.conv2d(tape, ops.avgPool2(tape, h), p(`d/down${i}/skip/kernel`), p(`d/down${i}/skip/bias`), leaky)
    h = ops.add(tape, main, skip, 0.5) as tf.Tensor4D
    if (h.shape[1] === 8) at8 = h
  }
  const top = spec.mbstd ? ops.mbstd(tape, h) : h
  const logit = ops.conv2d(tape, top, p('d/logit/kernel'), p('d/logit/bias'), { pad: 'valid' })
  const extras: Record<string, tf.Tensor> = {}
  if (real && spec.reconWeight > 0) {
    let r = at8 ?? h
    decoderWidths(spec).forEach((_, i) => {
      r = ops.upConv(tape, r, p(`d/dec${i}/kernel`), p(`d/dec${i}/bias`), leaky)
    })
    extras.reconstruction = ops.conv2d(tape, r, p('d/decrgb/kernel'), p('d/decrgb/bias'), { act: 'tanh' })
  }
  return { logits: ops.reshape<tf.Rank.R1>(tape, logit, [x.shape[0]]), extras }
}

/** Mean squared error between the decoder's image and the real image averaged down to its size. */
function extraDiscriminatorLoss(spec: LiteSpec, real: tf.Tensor4D, out: DiscriminatorOutput, ctx: LossContext): ExtraLoss | null {
  const rec = out.extras.reconstruction
  if (!rec || spec.reconWeight <= 0) return null
  let target: tf.Tensor4D = real
  while (target.shape[1] > rec.shape[1]!) target = tf.avgPool(target, 2, 2, 'valid')
  const perImage = rec.size / rec.shape[0]!
  const diff = tf.sub(rec, target)
  const scale = spec.reconWeight / (perImage * ctx.total)
  return {
    value: tf.mul(tf.sum(tf.square(diff)), scale) as tf.Scalar,
    seeds: [[rec, tf.mul(diff, 2 * scale)]]
  }
}

/**
 * The generator as a functional tfjs layers model of standard layers only, so any tfjs loads it:
 * the tied upsample + conv as conv2dTranspose with its 4×4 kernel, GLU as two 1×1 selection
 * convolutions (halves of the channels) and a multiply, skip-layer excitation as average pooling,
 * two convolutions and a broadcast multiply. Noise is not injected at inference.
 */
function exportGenerator(spec: LiteSpec, values: Record<string, { shape: number[]; data: Float32Array }>): tf.LayersModel {
  const w = generatorWidths(spec)
  const t = (name: string): tf.Tensor => {
    const v = values[name]
    if (!v) throw new Error(`generator weight ${name} is missing`)
    return tf.tensor(v.data, v.shape)
  }
  const weights: [tf.layers.Layer, tf.Tensor[]][] = []
  const selection = (c: number, half: 0 | 1): tf.Tensor => {
    const m = new Float32Array(2 * c * c)
    for (let k = 0; k < c; k++) m[(half * c + k) * c + k] = 1
    return tf.tensor4d(m, [1, 1, 2 * c, c])
  }
  const glu = (x: tf.SymbolicTensor, c: number, name: string): tf.SymbolicTensor => {
    const aLayer = tf.layers.conv2d({ filters: c, kernelSize: 1, useBias: false, name: `${name}_a` })
    const bLayer = tf.layers.conv2d({ filters: c, kernelSize: 1, useBias: false, activation: 'sigmoid', name: `${name}_b` })
    weights.push([aLayer, [selection(c, 0)]], [bLayer, [selection(c, 1)]])
    return tf.layers.multiply({ name: `${name}_gate` }).apply([aLayer.apply(x) as tf.SymbolicTensor, bLayer.apply(x) as tf.SymbolicTensor]) as tf.SymbolicTensor
  }
  const layerNorm = (x: tf.SymbolicTensor, name: string): tf.SymbolicTensor => {
    if (spec.gNorm !== 'channel') return x
    const layer = tf.layers.layerNormalization({ axis: -1, epsilon: ops.NORM_EPSILON, name })
    const out = layer.apply(x) as tf.SymbolicTensor
    weights.push([layer, [t(`g/${name}/gamma`), t(`g/${name}/beta`)]])
    return out
  }
  const input = tf.input({ shape: [spec.latentDim], name: 'z' })
  const dense = tf.layers.dense({ units: 16 * 2 * w[0]!, name: 'dense' })
  weights.push([dense, [t('g/dense/kernel'), t('g/dense/bias')]])
  let x = tf.layers.reshape({ targetShape: [4, 4, 2 * w[0]!], name: 'reshape' }).apply(dense.apply(input)) as tf.SymbolicTensor
  x = glu(layerNorm(x, 'norm0'), w[0]!, 'glu0')
  const feats: tf.SymbolicTensor[] = [x]
  const sle = new Map(slePairs(spec).map(([small, big]) => [big, small]))
  for (let i = 1; i < w.length; i++) {
    const up = tf.layers.conv2dTranspose({ filters: 2 * w[i]!, kernelSize: 4, strides: 2, padding: 'same', name: `up${i}` })
    const k3 = t(`g/up${i}/kernel`)
    const k4 = ops.tiedUpconvKernel(k3)
    k3.dispose()
    weights.push([up, [k4, t(`g/up${i}/bias`)]])
    x = glu(layerNorm(up.apply(x) as tf.SymbolicTensor, `norm${i}`), w[i]!, `glu${i}`)
    const small = sle.get(i)
    if (small !== undefined) {
      let s = feats[small]!
      for (let k = 0; s.shape[1]! > 4; k++) s = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `sle${i}_pool${k}` }).apply(s) as tf.SymbolicTensor
      const a = tf.layers.conv2d({ filters: w[i]!, kernelSize: 4, padding: 'valid', name: `sle${i}_a` })
      const b = tf.layers.conv2d({ filters: w[i]!, kernelSize: 1, activation: 'sigmoid', name: `sle${i}_b` })
      weights.push([a, [t(`g/sle${i}/a/kernel`), t(`g/sle${i}/a/bias`)]], [b, [t(`g/sle${i}/b/kernel`), t(`g/sle${i}/b/bias`)]])
      const act = tf.layers.leakyReLU({ alpha: 0.1, name: `sle${i}_act` }).apply(a.apply(s)) as tf.SymbolicTensor
      x = tf.layers.multiply({ name: `sle${i}_gate` }).apply([x, b.apply(act) as tf.SymbolicTensor]) as tf.SymbolicTensor
    }
    feats.push(x)
  }
  const rgb = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'rgb' })
  weights.push([rgb, [t('g/rgb/kernel'), t('g/rgb/bias')]])
  const model = tf.model({ inputs: input, outputs: rgb.apply(x) as tf.SymbolicTensor, name: 'gan_studio_generator' })
  for (const [layer, ws] of weights) {
    layer.setWeights(ws)
    tf.dispose(ws)
  }
  return model
}


export const lite: ModelFamily<LiteSpec> = {
  id: 'lite',
  description: 'FastGAN-style: upsample + conv, gated units, skip-layer excitation; residual discriminator with a reconstruction task',
  spec: liteSpec,
  generatorParams,
  discriminatorParams,
  generate,
  discriminate,
  extraDiscriminatorLoss,
  perSampleDiscriminator: (spec) => !spec.mbstd && spec.dNorm === 'none',
  earlyFeatures,
  exportGenerator,
  cost
}
