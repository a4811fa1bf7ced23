import * as tf from '@tensorflow/tfjs'
import {
  actGradKernel,
  autogradMode,
  batchNormGradKernel,
  batchNormKernel,
  biasActKernel,
  channelNormGradKernel,
  channelNormKernel,
  channelSumKernel,
  gateGradKernel,
  gateKernel,
  mbstdGradKernel,
  mbstdKernel,
  gluGradKernel,
  gluKernel,
  pool2Kernel,
  scaleSamplesKernel,
  spreadKernel,
  upsample2Kernel,
  type Activation
} from './kernels'
import { Tape as TapeCtor, type BackwardContext, type Tape } from './tape'

/**
 * Layer-sized, differentiable ops for the training engine. Each computes its forward pass (with
 * the fused kernels of kernels.ts where the backend has them, else tf ops) and, given a tape,
 * records a backward that computes exactly the gradients asked for. Without a tape they are plain
 * inference ops, used by generation and export checks.
 *
 * Tensors are NHWC float32. Parameters are passed as tensors with their names, so gradients are
 * accumulated by name on the tape.
 */

export type { Activation }
export type Pad = 'same' | 'valid' | number

export interface Param {
  name: string
  value: tf.Tensor
}

export const LEAKY_SLOPE = 0.2

function explicitPad(pad: Pad): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return typeof pad === 'number'
    ? [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0]
      ]
    : pad
}

// ── Element-wise pieces with a tf-op fallback ───────────────────────────────────────────────

function actForward(x: tf.Tensor, act: Activation, alpha: number): tf.Tensor {
  switch (act) {
    case 'relu':
      return tf.relu(x)
    case 'leakyrelu':
      return tf.leakyRelu(x, alpha)
    case 'tanh':
      return tf.tanh(x)
    case 'sigmoid':
      return tf.sigmoid(x)
    default:
      return x
  }
}

/** dx for y = act(x) from dy and the output y. */
export function activationGrad(dy: tf.Tensor, y: tf.Tensor, act: Activation, alpha = LEAKY_SLOPE): tf.Tensor {
  if (act === 'linear') return dy
  const fast = actGradKernel([dy, y], { act, alpha })
  if (fast) return fast[0]!
  switch (act) {
    case 'relu':
      return tf.mul(dy, tf.step(y))
    case 'leakyrelu':
      return tf.where(tf.greater(y, 0), dy, tf.mul(dy, alpha))
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)))
    default:
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)))
  }
}

/** Σ over all axes but the last, each sample weighted by w[b] when given. */
export function channelSum(x: tf.Tensor, w: tf.Tensor1D | null): tf.Tensor1D {
  const fast = w ? channelSumKernel([x, w], { weighted: true }) : channelSumKernel([x], { weighted: false })
  if (fast) return fast[0] as tf.Tensor1D
  const c = x.shape[x.shape.length - 1]!
  const scaled = w ? scaleSamples(x, w) : x
  return tf.sum(tf.reshape(scaled, [-1, c]), 0) as tf.Tensor1D
}

/** x[b, …]·w[b]. */
export function scaleSamples(x: tf.Tensor, w: tf.Tensor1D): tf.Tensor {
  const fast = scaleSamplesKernel([x, w], {})
  if (fast) return fast[0]!
  return tf.mul(x, tf.reshape(w, [w.shape[0], ...x.shape.slice(1).map(() => 1)]))
}

/** The gradient an op's parameters see: dy scaled per sample when the pass asks for it. */
function forParams(dy: tf.Tensor, ctx: BackwardContext): tf.Tensor {
  return ctx.sampleWeights ? scaleSamples(dy, ctx.sampleWeights) : dy
}

function biasAct(x: tf.Tensor, b: tf.Tensor | null, act: Activation, alpha: number): tf.Tensor {
  if (b) {
    const fast = biasActKernel([x, b], { act, alpha })
    if (fast) return fast[0]!
    return actForward(tf.add(x, b), act, alpha)
  }
  return actForward(x, act, alpha)
}

// ── Dense ───────────────────────────────────────────────────────────────────────────────────

/** y = act(x·W + b), x [N, in], W [in, out]. */
export function dense(tape: Tape | null, x: tf.Tensor2D, w: Param, b: Param | null, act: Activation = 'linear', alpha = LEAKY_SLOPE): tf.Tensor2D {
  const y = biasAct(tf.matMul(x, w.value as tf.Tensor2D), b?.value ?? null, act, alpha) as tf.Tensor2D
  tape?.record([x], [y], b ? [w.name, b.name] : [w.name], ([dy], ctx) => {
    const dz = activationGrad(dy!, y, act, alpha)
    if (ctx.wantsParam(w.name)) ctx.addParamGrad(w.name, tf.matMul(x, forParams(dz, ctx) as tf.Tensor2D, true, false))
    if (b && ctx.wantsParam(b.name)) ctx.addParamGrad(b.name, channelSum(dz, ctx.sampleWeights))
    return [ctx.needs(0) ? tf.matMul(dz as tf.Tensor2D, w.value as tf.Tensor2D, false, true) : null]
  })
  return y
}

// ── Convolutions ────────────────────────────────────────────────────────────────────────────

export interface ConvOptions {
  stride?: number
  pad?: Pad
  act?: Activation
  alpha?: number
}

/** y = act(conv(x, W) + b), W [kh, kw, in, out]. */
export function conv2d(tape: Tape | null, x: tf.Tensor4D, w: Param, b: Param | null, opts: ConvOptions = {}): tf.Tensor4D {
  const stride = opts.stride ?? 1
  const pad = explicitPad(opts.pad ?? 'same')
  const act = opts.act ?? 'linear'
  const alpha = opts.alpha ?? LEAKY_SLOPE
  const filter = w.value as tf.Tensor4D
  // tfjs fuses ReLU, leaky ReLU and sigmoid into the convolution; tanh runs after it.
  const fused = act === 'tanh' ? 'linear' : act
  const z = tf.fused.conv2d({ x, filter, strides: stride, pad, bias: b?.value, activation: fused, leakyreluAlpha: alpha }) as tf.Tensor4D
  const y = act === 'tanh' ? (tf.tanh(z) as tf.Tensor4D) : z
  tape?.record([x], [y], b ? [w.name, b.name] : [w.name], ([dy], ctx) => {
    const dz = activationGrad(dy!, y, act, alpha)
    const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined }
    if (ctx.wantsParam(w.name)) {
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: forParams(dz, ctx) }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
      ctx.addParamGrad(w.name, dw)
    }
    if (b && ctx.wantsParam(b.name)) ctx.addParamGrad(b.name, channelSum(dz, ctx.sampleWeights))
    if (!ctx.needs(0)) return [null]
    return [tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor]
  })
  return y
}

/**
 * Transposed convolution (stride 2, 'same'): y = act(convT(x, W) + b), W [kh, kw, out, in] as
 * tf.conv2dTranspose takes it. Output is twice the input's height and width.
 */
export function conv2dTranspose(tape: Tape | null, x: tf.Tensor4D, w: Param, b: Param | null, opts: ConvOptions = {}): tf.Tensor4D {
  const stride = opts.stride ?? 2
  const pad = explicitPad(opts.pad ?? 'same')
  const act = opts.act ?? 'linear'
  const alpha = opts.alpha ?? LEAKY_SLOPE
  const filter = w.value as tf.Tensor4D
  const [n, h, wd] = x.shape
  const outShape: [number, number, number, number] = [n, h * stride, wd * stride, filter.shape[2]]
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined }
  const z = autogradMode()
    ? tf.conv2dTranspose(x, filter, outShape, stride, pad)
    : (tf.engine().runKernel('Conv2DBackpropInput', { dy: x, filter }, { ...attrs, inputShape: outShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
  const y = biasAct(z, b?.value ?? null, act, alpha) as tf.Tensor4D
  tape?.record([x], [y], b ? [w.name, b.name] : [w.name], ([dy], ctx) => {
    const dz = activationGrad(dy!, y, act, alpha)
    if (ctx.wantsParam(w.name)) {
      // y = convᵀ_W(x) ⇒ ⟨dz, convᵀ_W(x)⟩ = ⟨conv_W(dz), x⟩: the filter gradient of a conv whose input is dz.
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: dz, dy: forParams(x, ctx) }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
      ctx.addParamGrad(w.name, dw)
    }
    if (b && ctx.wantsParam(b.name)) ctx.addParamGrad(b.name, channelSum(dz, ctx.sampleWeights))
    if (!ctx.needs(0)) return [null]
    return [tf.conv2d(dz as tf.Tensor4D, filter, stride, pad)]
  })
  return y
}

// ── Activations ─────────────────────────────────────────────────────────────────────────────

export function activation(tape: Tape | null, x: tf.Tensor, act: Activation, alpha = LEAKY_SLOPE): tf.Tensor {
  if (act === 'linear') return x
  const y = actForward(x, act, alpha)
  tape?.record([x], [y], [], ([dy]) => [activationGrad(dy!, y, act, alpha)])
  return y
}

// ── Normalisation ───────────────────────────────────────────────────────────────────────────

export const NORM_EPSILON = 1e-5

/** Layer norm over the channel axis at each pixel, with a learned scale and shift. */
export function channelNorm(tape: Tape | null, x: tf.Tensor, gamma: Param, beta: Param): tf.Tensor {
  const fast = channelNormKernel([x, gamma.value, beta.value], { epsilon: NORM_EPSILON })
  let y: tf.Tensor
  let xhat: tf.Tensor
  let rstd: tf.Tensor
  if (fast) {
    ;[y, xhat, rstd] = fast as [tf.Tensor, tf.Tensor, tf.Tensor]
  } else {
    const { mean, variance } = tf.moments(x, -1, true)
    rstd = tf.rsqrt(tf.add(variance, NORM_EPSILON))
    xhat = tf.mul(tf.sub(x, mean), rstd)
    y = tf.add(tf.mul(xhat, gamma.value), beta.value)
  }
  tape?.record([x], [y], [gamma.name, beta.name], ([dy], ctx) => {
    const w = ctx.sampleWeights
    const fastGrad = channelNormGradKernel(w ? [dy!, xhat, rstd, gamma.value, w] : [dy!, xhat, rstd, gamma.value], { weighted: !!w })
    let dx: tf.Tensor
    let dgamma: tf.Tensor
    let dbeta: tf.Tensor
    if (fastGrad) {
      ;[dx, dgamma, dbeta] = fastGrad as [tf.Tensor, tf.Tensor, tf.Tensor]
    } else {
      const c = x.shape[x.shape.length - 1]!
      const g = tf.mul(dy!, gamma.value)
      const mg = tf.mean(g, -1, true)
      const mgx = tf.mean(tf.mul(g, xhat), -1, true)
      const r = rstd.shape.length === x.shape.length ? rstd : tf.reshape(rstd, [...x.shape.slice(0, -1), 1])
      dx = tf.mul(r, tf.sub(tf.sub(g, mg), tf.mul(xhat, mgx)))
      const dyw = w ? scaleSamples(dy!, w) : dy!
      dgamma = tf.sum(tf.reshape(tf.mul(dyw, xhat), [-1, c]), 0)
      dbeta = tf.sum(tf.reshape(dyw, [-1, c]), 0)
    }
    if (ctx.wantsParam(gamma.name)) ctx.addParamGrad(gamma.name, dgamma)
    if (ctx.wantsParam(beta.name)) ctx.addParamGrad(beta.name, dbeta)
    return [ctx.needs(0) ? dx : null]
  })
  return y
}

// ── Structure ───────────────────────────────────────────────────────────────────────────────

export function reshape<R extends tf.Rank>(tape: Tape | null, x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  const y = tf.reshape(x, shape) as unknown as tf.Tensor<R>
  tape?.record([x], [y], [], ([dy]) => [tf.reshape(dy!, x.shape)])
  return y
}

export function add(tape: Tape | null, a: tf.Tensor, b: tf.Tensor, scale = 1): tf.Tensor {
  const y = scale === 1 ? tf.add(a, b) : tf.mul(tf.add(a, b), scale)
  tape?.record([a, b], [y], [], ([dy]) => {
    const g = scale === 1 ? dy! : tf.mul(dy!, scale)
    return [g, g]
  })
  return y
}

/** Gated linear unit over channels: [a | b] → a·σ(b) (halves the channel count). */
export function glu(tape: Tape | null, x: tf.Tensor4D): tf.Tensor4D {
  const fast = gluKernel([x], {})
  let y: tf.Tensor4D
  let gate: tf.Tensor
  const c = x.shape[3] / 2
  if (fast) {
    ;[y, gate] = fast as [tf.Tensor4D, tf.Tensor]
  } else {
    const [a, bb] = tf.split(x, 2, 3)
    gate = tf.sigmoid(bb!)
    y = tf.mul(a!, gate) as tf.Tensor4D
  }
  tape?.record([x], [y], [], ([dy]) => {
    const fastGrad = gluGradKernel([dy!, x, gate], {})
    if (fastGrad) return [fastGrad[0]!]
    const a = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, c])
    return [tf.concat([tf.mul(dy!, gate), tf.mul(tf.mul(dy!, a), tf.mul(gate, tf.sub(1, gate)))], 3)]
  })
  return y
}

/** Nearest-neighbour ×2 upsampling. */
export function upsample2(tape: Tape | null, x: tf.Tensor4D): tf.Tensor4D {
  const fast = upsample2Kernel([x], {})
  const [, h, w] = x.shape
  const y = (fast ? fast[0] : autogradMode() ? repeat2(x) : tf.image.resizeNearestNeighbor(x, [h * 2, w * 2])) as tf.Tensor4D
  tape?.record([x], [y], [], ([dy]) => [sumPool2(dy! as tf.Tensor4D, 1)])
  return y
}

function sumPool2(x: tf.Tensor4D, scale: number): tf.Tensor4D {
  const fast = pool2Kernel([x], { scale })
  if (fast) return fast[0] as tf.Tensor4D
  if (autogradMode()) {
    // Differentiable twice (R1 takes a gradient of a gradient; tfjs's AvgPoolGrad has none).
    const [n, h, w, c] = x.shape
    return tf.mul(tf.sum(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]), scale) as tf.Tensor4D
  }
  const pooled = tf.avgPool(x, 2, 2, 'valid')
  return (scale === 0.25 ? pooled : tf.mul(pooled, scale * 4)) as tf.Tensor4D
}

/** Nearest ×2 as a broadcast, differentiable twice (for autograd mode; see sumPool2). */
function repeat2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape
  return tf.reshape(tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [n, h * 2, w * 2, c])
}

/** 2×2 average pooling (stride 2). */
export function avgPool2(tape: Tape | null, x: tf.Tensor4D): tf.Tensor4D {
  const y = sumPool2(x, 0.25)
  tape?.record([x], [y], [], ([dy]) => {
    const fast = upsample2Kernel([dy!], {})
    const [, h, w] = dy!.shape
    const up = fast ? fast[0]! : tf.image.resizeNearestNeighbor(dy! as tf.Tensor4D, [h * 2, w * 2])
    return [tf.mul(up, 0.25)]
  })
  return y
}

/** Global average over height and width: [N,H,W,C] → [N,1,1,C]. */
export function globalAvgPool(tape: Tape | null, x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape
  const y = tf.mean(x, [1, 2], true) as tf.Tensor4D
  tape?.record([x], [y], [], ([dy]) => {
    const fast = spreadKernel([dy!], { height: h, width: w, scale: 1 / (h * w) })
    if (fast) return [fast[0]!]
    return [tf.mul(tf.tile(dy!, [1, h, w, 1]), 1 / (h * w))]
  })
  return y
}

/** y = x·g with g per sample and channel ([N,1,1,C]): skip-layer excitation's gating. */
export function gate(tape: Tape | null, x: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  const fast = gateKernel([x, g], {})
  const y = (fast ? fast[0] : tf.mul(x, g)) as tf.Tensor4D
  tape?.record([x, g], [y], [], ([dy], ctx) => {
    const fastGrad = gateGradKernel([dy!, x, g], {})
    if (fastGrad) return [ctx.needs(0) ? fastGrad[0]! : null, ctx.needs(1) ? fastGrad[1]! : null]
    return [ctx.needs(0) ? tf.mul(dy!, g) : null, ctx.needs(1) ? tf.sum(tf.mul(dy!, x), [1, 2], true) : null]
  })
  return y
}

/** y = x + s·noise with a learned per-channel strength s (noise is an input, drawn by the caller). */
export function noiseInject(tape: Tape | null, x: tf.Tensor4D, noise: tf.Tensor4D, strength: Param): tf.Tensor4D {
  const y = tf.add(x, tf.mul(noise, strength.value)) as tf.Tensor4D
  tape?.record([x], [y], [strength.name], ([dy], ctx) => {
    if (ctx.wantsParam(strength.name)) ctx.addParamGrad(strength.name, channelSum(tf.mul(dy!, noise), ctx.sampleWeights))
    return [ctx.needs(0) ? dy! : null]
  })
  return y
}

// ── Nearest ×2 upsampling followed by a 3×3 convolution, at the cost of a transposed conv ──

/**
 * Row/column taps of the 4×4 stride-2 transposed convolution that equals nearest ×2 upsampling
 * followed by a 3×3 'same' convolution: output row 2i reads input rows i−1 (tap 0) and i (taps
 * 1+2); row 2i+1 reads rows i (taps 0+1) and i+1 (tap 2). In conv2dTranspose's layout that is
 * W4[r] = Σ w3[k] over k ∈ TAPS[r].
 */
const UPCONV_TAPS: readonly (readonly number[])[] = [[2], [1, 2], [0, 1], [0]]

/** [16, 9] row-major: row (r·4 + c) sums the 3×3 taps that land on 4×4 tap (r, c). */
function upconvTaps(): Float32Array {
  const m = new Float32Array(16 * 9)
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (const kr of UPCONV_TAPS[r]!) for (const kc of UPCONV_TAPS[c]!) m[(r * 4 + c) * 9 + kr * 3 + kc] = 1
  return m
}

let upconvMatrix: tf.Tensor2D | null = null
function upconvMap(): tf.Tensor2D {
  if (!upconvMatrix || upconvMatrix.isDisposed) upconvMatrix = tf.keep(tf.tensor2d(upconvTaps(), [16, 9]))
  return upconvMatrix
}

/** The 4×4 transposed-conv kernel [4, 4, out, in] that runs a 3×3 upConv kernel [3, 3, out, in] (training and export). */
export function tiedUpconvKernel(w: tf.Tensor): tf.Tensor4D {
  const [kh, kw, out, inC] = w.shape as [number, number, number, number]
  if (kh !== 3 || kw !== 3) throw new Error('upConv takes a 3×3 kernel')
  return tf.tidy(() => tf.reshape(tf.matMul(upconvMap(), tf.reshape(w, [9, out * inC])), [4, 4, out, inC]))
}

/**
 * y = act(conv3×3(upsample×2(x)) + b) with W [3, 3, out, in] (the transposed-conv layout). Runs
 * as one 4×4 stride-2 transposed convolution whose taps are sums of W's, so it costs 16/36 of
 * upsampling then convolving, and, unlike a free transposed convolution, cannot make a
 * checkerboard: every output phase is built from the same 3×3 kernel.
 */
export function upConv(tape: Tape | null, x: tf.Tensor4D, w: Param, b: Param | null, opts: ConvOptions = {}): tf.Tensor4D {
  const [, , out, inC] = w.value.shape as [number, number, number, number]
  const w4 = tiedUpconvKernel(w.value)
  const inner: Param = { name: `${w.name}#4x4`, value: w4 }
  const local = tape ? new TapeAdapter(tape) : null
  const y = conv2dTranspose(local?.inner ?? null, x, inner, b, { ...opts, stride: 2, pad: 'same' })
  local?.finish([x], [y], w, b, inner.name, (dW4) => tf.reshape(tf.matMul(upconvMap(), tf.reshape(dW4, [16, out * inC]), true, false), [3, 3, out, inC]))
  return y
}

/**
 * Records an op built from another op with a derived parameter: runs the inner op on a private
 * tape, then records one entry whose backward runs the inner backward and maps the derived
 * parameter's gradient back to the real one.
 */
class TapeAdapter {
  readonly inner: Tape
  constructor(private readonly outer: Tape) {
    this.inner = new TapeCtor()
  }

  finish(inputs: tf.Tensor[], outputs: tf.Tensor[], w: Param, b: Param | null, derived: string, back: (g: tf.Tensor) => tf.Tensor): void {
    for (const t of inputs) if (this.outer.requires(t)) this.inner.watch(t)
    const inner = this.inner
    this.outer.record(inputs, outputs, b ? [w.name, b.name] : [w.name], (dOut, ctx) => {
      inner.paramGrads.clear()
      const grads = inner.backward(
        outputs.map((o, i) => [o, dOut[i]!] as [tf.Tensor, tf.Tensor]).filter(([, g]) => g !== undefined && g !== null),
        {
          params: (n) => (n === derived ? ctx.wantsParam(w.name) : ctx.wantsParam(n)),
          sampleWeights: ctx.sampleWeights
        }
      )
      for (const [n, g] of inner.paramGrads) ctx.addParamGrad(n === derived ? w.name : n, n === derived ? back(g) : g)
      return inputs.map((t, i) => (ctx.needs(i) ? (grads.get(t.id) ?? null) : null))
    })
  }
}

// ── Minibatch standard deviation ────────────────────────────────────────────────────────────

export const MBSTD_GROUP = 4

/**
 * Appends one channel holding, for each group of MBSTD_GROUP consecutive images, the mean
 * standard deviation of the features over the group (ProGAN's minibatch stddev). A discriminator
 * that sees it can tell a batch of near-identical images from a varied one, which pushes the
 * generator away from collapse. Groups never straddle a data-parallel shard (shards are multiples
 * of the group size), so results do not depend on the worker count.
 */
export function mbstd(tape: Tape | null, x: tf.Tensor4D): tf.Tensor4D {
  const n = x.shape[0]
  const group = n % MBSTD_GROUP === 0 ? MBSTD_GROUP : n % 2 === 0 ? 2 : 1
  const fast = mbstdKernel([x], { group, epsilon: 1e-8 })
  let y: tf.Tensor4D
  let sigma: tf.Tensor | null = null
  if (fast) {
    ;[y, sigma] = fast as [tf.Tensor4D, tf.Tensor]
  } else {
    const [, h, w, c] = x.shape
    const g = tf.reshape(x, [n / group, group, h, w, c])
    const centred = tf.sub(g, tf.mean(g, 1, true))
    const s = tf.sqrt(tf.add(tf.mean(tf.square(centred), 1), 1e-8))
    const stat = tf.mean(s, [1, 2, 3]) // [groups]
    const perImage = tf.tile(tf.reshape(tf.tile(tf.reshape(stat, [n / group, 1]), [1, group]), [n, 1, 1, 1]), [1, h, w, 1])
    y = tf.concat([x, perImage], 3) as tf.Tensor4D
  }
  tape?.record([x], [y], [], ([dy]) => {
    if (sigma) return [mbstdGradKernel([dy!, x, sigma], { group })![0]!]
    // Other backends: tfjs autograd of the same maths.
    return [tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(mbstd(null, xx as tf.Tensor4D), dy!)))(x)]
  })
  return y
}

// ── Batch norm ──────────────────────────────────────────────────────────────────────────────

/** Images per batch-norm group: statistics never mix images of different data-parallel shards. */
export const BATCH_NORM_GROUP = 8

function normGroup(n: number): number {
  let g = Math.min(BATCH_NORM_GROUP, n)
  while (n % g !== 0) g--
  return g
}

/**
 * Batch norm with batch statistics, per channel over groups of consecutive images ("ghost"
 * batches of BATCH_NORM_GROUP), with a learned scale and shift. For the discriminator, which runs
 * real and generated images as separate batches, the statistics themselves tell it how varied a
 * batch is.
 */
export function batchNorm(tape: Tape | null, x: tf.Tensor, gamma: Param, beta: Param): tf.Tensor {
  const group = normGroup(x.shape[0]!)
  const fast = batchNormKernel([x, gamma.value, beta.value], { group, epsilon: NORM_EPSILON })
  let y: tf.Tensor
  let xhat: tf.Tensor | null = null
  let rstd: tf.Tensor | null = null
  if (fast) {
    ;[y, xhat, rstd] = fast as [tf.Tensor, tf.Tensor, tf.Tensor]
  } else {
    y = batchNormOps(x, gamma.value, beta.value, group)
  }
  tape?.record([x], [y], [gamma.name, beta.name], ([dy], ctx) => {
    let dx: tf.Tensor
    let dgamma: tf.Tensor
    let dbeta: tf.Tensor
    if (xhat && rstd) {
      ;[dx, dgamma, dbeta] = batchNormGradKernel([dy!, xhat, rstd, gamma.value], { group }) as [tf.Tensor, tf.Tensor, tf.Tensor]
    } else {
      const grads = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormOps(xx, g, b, group), dy!)))([x, gamma.value, beta.value])
      ;[dx, dgamma, dbeta] = grads as [tf.Tensor, tf.Tensor, tf.Tensor]
    }
    if (ctx.wantsParam(gamma.name)) ctx.addParamGrad(gamma.name, dgamma)
    if (ctx.wantsParam(beta.name)) ctx.addParamGrad(beta.name, dbeta)
    return [ctx.needs(0) ? dx : null]
  })
  return y
}

function batchNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, group: number): tf.Tensor {
  const shape = x.shape
  const c = shape[shape.length - 1]!
  const g = tf.reshape(x, [shape[0]! / group, -1, c])
  const { mean, variance } = tf.moments(g, 1, true)
  const xhat = tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, NORM_EPSILON)))
  return tf.reshape(tf.add(tf.mul(xhat, gamma), beta), shape)
}
