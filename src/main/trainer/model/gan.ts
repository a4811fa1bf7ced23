import * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '@shared/config'
import { augmentBackward, augmentForward, drawAugment, type AugmentParams, type AugmentPolicy } from '../nn/augment'
import { withAutogradOps } from '../nn/kernels'
import { scaleSamples } from '../nn/ops'
import { Tape } from '../nn/tape'
import type { BaseSpec, ModelFamily, Params } from './family'
import { familyFor } from './families'
import { hasFastKernels } from '../nn/kernels'
import { DeviceNet, FlatNet, makeLayout, sharedAlloc, type NetState } from './params'
import { latentForSeed, Rng } from './rng'
import { registerSecondOrderGradients } from './second-order'

/** Scalars of one step, still on the device: read them every N steps, not every step. */
export interface StepTensors {
  gLoss: tf.Scalar
  dLoss: tf.Scalar
  dReal: tf.Scalar
  dFake: tf.Scalar
  r1: tf.Scalar | null
}

export interface GanOptions {
  family: ModelFamily
  spec: BaseSpec
  loss: RunConfig['loss']
  optimizer: RunConfig['optimizer']
  augment: AugmentPolicy
  ema: RunConfig['ema']
  seed: number
}

export function ganOptionsFromConfig(config: RunConfig): GanOptions {
  const family = familyFor(config.model.arch)
  return {
    family,
    spec: family.spec(config),
    loss: config.loss,
    optimizer: config.optimizer,
    augment: { color: config.augment.color, translation: config.augment.translation, cutout: config.augment.cutout },
    ema: config.ema,
    seed: config.seed
  }
}

/** Everything needed to continue a run exactly: weights, optimizer moments, counters, RNG. */
export interface GanState {
  tensors: Record<string, { shape: number[]; data: Float32Array }>
  gOptStep: number
  dOptStep: number
  rng: [number, number, number, number]
}

/**
 * The EMA's decay ramps up with the step count (min(decay, (1 + t) / (10 + t)), as TensorFlow's
 * ExponentialMovingAverage does with num_updates), so early samples follow the generator instead
 * of staying near its random initial weights for thousands of steps.
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step))
}

/** Per-logit loss gradients and the loss values, normalised by the whole batch's logit count. */
interface LossTerms {
  dReal: tf.Tensor
  dFakeForD: tf.Tensor
  dFakeForG: tf.Tensor
  gLoss: tf.Scalar
  dLoss: tf.Scalar
}

/**
 * The adversarial losses of a (possibly partial) batch. `total` is the number of images in the
 * whole batch: a shard's gradients and losses then add up to the whole batch's.
 */
function adversarialLosses(type: RunConfig['loss']['type'], real: tf.Tensor, fake: tf.Tensor, total: number): LossTerms {
  const nr = (real.size / real.shape[0]!) * total
  const nf = (fake.size / fake.shape[0]!) * total
  const sumOver = (t: tf.Tensor, n: number): tf.Scalar => tf.div(tf.sum(t), n)
  if (type === 'hinge') {
    return {
      dReal: tf.div(tf.neg(tf.cast(tf.less(real, 1), 'float32')), nr),
      dFakeForD: tf.div(tf.cast(tf.greater(fake, -1), 'float32'), nf),
      dFakeForG: tf.fill(fake.shape, -1 / nf),
      gLoss: tf.neg(sumOver(fake, nf)),
      dLoss: tf.add(sumOver(tf.relu(tf.sub(1, real)), nr), sumOver(tf.relu(tf.add(1, fake)), nf))
    }
  }
  return {
    dReal: tf.div(tf.neg(tf.sigmoid(tf.neg(real))), nr),
    dFakeForD: tf.div(tf.sigmoid(fake), nf),
    dFakeForG: tf.div(tf.neg(tf.sigmoid(tf.neg(fake))), nf),
    gLoss: sumOver(tf.softplus(tf.neg(fake)), nf),
    dLoss: tf.add(sumOver(tf.softplus(tf.neg(real)), nr), sumOver(tf.softplus(fake), nf))
  }
}

/** Everything random in one step, drawn from the trainer's RNG before any computation. */
export interface StepInputs {
  /** Latents, [batch × latentDim]. */
  z: Float32Array
  augFake: AugmentParams
  augReal: AugmentParams
  applyR1: boolean
  /** One seed per image for families that draw noise or other per-image randomness. */
  imageSeeds: Uint32Array
}

/** The images [from, to) of a step's inputs (a data-parallel shard). */
export function sliceInputs(inp: StepInputs, latentDim: number, from: number, to: number): StepInputs {
  const cut = (a: number[] | null): number[] | null => (a ? a.slice(from, to) : null)
  const aug = (p: AugmentParams): AugmentParams => ({
    ...p,
    batch: to - from,
    brightness: cut(p.brightness),
    saturation: cut(p.saturation),
    contrast: cut(p.contrast),
    shiftY: cut(p.shiftY),
    shiftX: cut(p.shiftX),
    cutY: cut(p.cutY),
    cutX: cut(p.cutX)
  })
  return {
    z: inp.z.slice(from * latentDim, to * latentDim),
    augFake: aug(inp.augFake),
    augReal: aug(inp.augReal),
    applyR1: inp.applyR1,
    imageSeeds: inp.imageSeeds.slice(from, to)
  }
}

export interface StepContext {
  family: ModelFamily
  spec: BaseSpec
  options: GanOptions
  /** Both networks' parameters by name (`g/…`, `d/…`). */
  params: Params
  /** The discriminator's parameter names (for R1). */
  dNames: string[]
}

/**
 * One step's gradients for a batch or a shard of it: G forward, D on generated and real images,
 * the losses, and the backward passes. Gradients (kept tensors, by parameter name) are sums
 * normalised by `total` images, so shards add up to the whole batch.
 */
export function stepGradients(
  ctx: StepContext,
  real: tf.Tensor4D,
  inputs: StepInputs,
  total: number
): { gGrads: Map<string, tf.Tensor>; dGrads: Map<string, tf.Tensor>; scalars: StepTensors } {
  const { family, spec, options, params: p } = ctx
  const batch = real.shape[0]
  const isD = (n: string): boolean => n.startsWith('d/')
  const isG = (n: string): boolean => n.startsWith('g/')
  const gGrads = new Map<string, tf.Tensor>()
  const dGrads = new Map<string, tf.Tensor>()
  let scalars: StepTensors | null = null
  tf.tidy(() => {
    const z = tf.tensor2d(inputs.z, [batch, spec.latentDim])
    // Generator forward, recorded.
    const tapeG = new Tape()
    const fake = family.generate(spec, p, z, tapeG, { training: true, imageSeeds: inputs.imageSeeds })
    const fakeIn = augmentForward(fake, inputs.augFake)
    // Discriminator on generated images (one forward for both networks' gradients).
    const tapeF = new Tape()
    tapeF.watch(fakeIn)
    const outF = family.discriminate(spec, p, fakeIn, tapeF, false)
    // Discriminator on real images.
    const realIn = augmentForward(real, inputs.augReal)
    const tapeR = new Tape()
    const outR = family.discriminate(spec, p, realIn, tapeR, true)

    const loss = adversarialLosses(options.loss.type, outR.logits, outF.logits, total)
    const extra = family.extraDiscriminatorLoss?.(spec, realIn, outR, { total, imageSeeds: inputs.imageSeeds }) ?? null
    tapeR.backward([[outR.logits, loss.dReal], ...(extra?.seeds ?? [])], { params: isD })

    let dFakeIn: tf.Tensor
    if (family.perSampleDiscriminator(spec)) {
      // One pass from ones: D's parameters weight each image by ∂L_D/∂logit, the input gradient
      // is scaled afterwards by ∂L_G/∂logit (exact: D mixes no samples).
      const grads = tapeF.backward([[outF.logits, tf.onesLike(outF.logits)]], { params: isD, sampleWeights: tf.reshape(loss.dFakeForD, [batch]) as tf.Tensor1D })
      dFakeIn = scaleSamples(grads.get(fakeIn.id)!, tf.reshape(loss.dFakeForG, [batch]) as tf.Tensor1D)
    } else {
      tapeF.backward([[outF.logits, loss.dFakeForD]], { params: isD, rootGrads: false })
      dFakeIn = tapeF.backward([[outF.logits, loss.dFakeForG]], { params: () => false }).get(fakeIn.id)!
    }
    const dFakeAdv = augmentBackward(dFakeIn as tf.Tensor4D, inputs.augFake)
    const ms = options.loss.modeSeeking > 0 ? modeSeekingGradient(fake, z, options.loss.modeSeeking, total, Math.max(1, fake.shape[1] / MODE_SEEKING_GRID)) : null
    const dFake = ms ? tf.add(dFakeAdv, ms) : dFakeAdv
    tapeG.backward([[fake, dFake]], { params: isG })

    const dParams = new Map<string, tf.Tensor>(tapeF.paramGrads)
    for (const [n, gr] of tapeR.paramGrads) dParams.set(n, dParams.has(n) ? tf.add(dParams.get(n)!, gr) : gr)
    let r1: tf.Scalar | null = null
    if (inputs.applyR1) {
      const penalty = r1Gradients(ctx, realIn, total)
      r1 = penalty.value
      for (const [n, gr] of penalty.grads) dParams.set(n, dParams.has(n) ? tf.add(dParams.get(n)!, gr) : gr)
    }
    for (const [n, gr] of tapeG.paramGrads) gGrads.set(n, tf.keep(gr))
    for (const [n, gr] of dParams) dGrads.set(n, tf.keep(gr))
    const dLoss = extra ? tf.add(loss.dLoss, extra.value) : loss.dLoss
    const perImage = (t: tf.Tensor): tf.Scalar => tf.div(tf.sum(t), (t.size / batch) * total) as tf.Scalar
    scalars = {
      gLoss: tf.keep(loss.gLoss),
      dLoss: tf.keep(dLoss as tf.Scalar),
      dReal: tf.keep(perImage(outR.logits)),
      dFake: tf.keep(perImage(outF.logits)),
      r1: r1 ? tf.keep(r1) : null
    }
  })
  return { gGrads, dGrads, scalars: scalars! }
}

/**
 * The mode-seeking term compares images at this size (average-pooled): their layout and colours.
 * Compared pixel by pixel, the cheapest way for the generator to make two pictures differ is
 * per-pixel colour noise, and it learnt exactly that (a rainbow speckle over every body).
 */
export const MODE_SEEKING_GRID = 8

/**
 * The gradient, with respect to the generated images, of the mode-seeking term (Mao et al. 2019):
 * λ / (r + ε), where r is the mean over pairs (image i, image i + n/2 of this batch or shard) of
 * mean|P(G(zᵢ)) − P(G(zⱼ))| ÷ mean|zᵢ − zⱼ|, P being `pool`×`pool` average pooling (1: none). It
 * is large when different latents give the same picture and fades once they differ, so it acts
 * against collapse and leaves a healthy run nearly alone. A shard's term is weighted by its share
 * of the batch. (An odd image out is left unpaired.)
 */
export function modeSeekingGradient(fake: tf.Tensor4D, z: tf.Tensor2D, lambda: number, total: number, pool = 1): tf.Tensor4D | null {
  const n = fake.shape[0]
  const h = Math.floor(n / 2)
  if (h === 0) return null
  const [, height, width, channels] = fake.shape
  if (height % pool || width % pool) throw new Error(`mode seeking: ${height}×${width} images do not pool by ${pool}`)
  return tf.tidy(() => {
    const pooled = pool > 1 ? tf.avgPool(fake, pool, pool, 'valid') : fake
    const a = tf.slice(pooled, [0, 0, 0, 0], [h, -1, -1, -1])
    const b = tf.slice(pooled, [h, 0, 0, 0], [h, -1, -1, -1])
    const zd = tf.mean(tf.abs(tf.sub(tf.slice(z, [0, 0], [h, -1]), tf.slice(z, [h, 0], [h, -1]))), 1) // [h]
    const diff = tf.sub(a, b)
    const imgD = tf.mean(tf.abs(diff), [1, 2, 3]) // [h]
    const r = tf.mean(tf.div(imgD, zd))
    // d(λ·w/(r+ε))/dr = −λ·w/(r+ε)², with w = n/total the shard's share. Through the pooling
    // each pixel gets its cell's sign ÷ pool², and the pooled mean's 1/(cells·C) makes that
    // sign ÷ (H·W·C) per pixel, as without pooling.
    const outer = tf.div(tf.scalar((-lambda * n) / total), tf.square(tf.add(r, 1e-5)))
    const perPair = tf.reshape(tf.div(outer, tf.mul(zd, h * height * width * channels)), [h, 1, 1, 1])
    let sign = tf.sign(diff) as tf.Tensor4D
    if (pool > 1) sign = tf.image.resizeNearestNeighbor(sign, [height, width])
    const gA = tf.mul(sign, perPair)
    const parts: tf.Tensor4D[] = [gA as tf.Tensor4D, tf.neg(gA) as tf.Tensor4D]
    if (n > 2 * h) parts.push(tf.zeros([n - 2 * h, height, width, channels]))
    return tf.concat(parts, 0) as tf.Tensor4D
  })
}

/**
 * Lazy R1 on real images: (γ/2)·E‖∇ₓD(x)‖², weighted by how rarely it runs. Its gradient is a
 * gradient of a gradient, so it goes through tfjs' autograd on plain tf ops.
 */
function r1Gradients(ctx: StepContext, realIn: tf.Tensor4D, total: number): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  registerSecondOrderGradients()
  const { r1Gamma, r1Every } = ctx.options.loss
  const names = ctx.dNames
  const xs = names.map((n) => ctx.params(n).value)
  // The engine's own gradients call: unlike tf.grads it allows parameters the penalty does not
  // depend on (the last layer's bias), which get no gradient.
  const engine = tf.engine() as unknown as {
    gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | null)[] }
  }
  const result = withAutogradOps(() =>
    engine.gradients(
      () => {
        const gx = tf.grad((x: tf.Tensor) => tf.sum(ctx.family.discriminate(ctx.spec, ctx.params, x as tf.Tensor4D, null, false).logits))(realIn)
        return tf.div(tf.sum(tf.square(gx)), total)
      },
      xs,
      undefined,
      true
    )
  )
  const scale = (r1Gamma / 2) * r1Every
  const grads = new Map<string, tf.Tensor>()
  names.forEach((n, i) => {
    const g = result.grads[i]
    if (g) grads.set(n, tf.mul(g, scale))
  })
  return { value: result.value as tf.Scalar, grads }
}

/**
 * A model family's generator and discriminator, their Adam optimizers and the generator's moving
 * average. One `trainStep` computes both networks' gradients from one forward pass of each (the
 * generated batch goes through D once; D's and G's gradients share it) and then updates G, the
 * EMA and D. Pure computation, no I/O: the training loop owns data, logging and files.
 */
export class Gan {
  readonly family: ModelFamily
  readonly spec: BaseSpec
  readonly rng: Rng
  readonly g: NetState
  readonly d: NetState
  private dSteps = 0

  /**
   * `shared`: keep parameters, moments and the EMA in SharedArrayBuffers (flat arrays whatever the
   * backend), for data-parallel workers to read and update.
   */
  constructor(
    readonly options: GanOptions,
    shared = false
  ) {
    registerSecondOrderGradients()
    this.family = options.family
    this.spec = options.spec
    this.rng = new Rng(options.seed)
    const o = options.optimizer
    const gSpecs = this.family.generatorParams(this.spec)
    const dSpecs = this.family.discriminatorParams(this.spec)
    // Backends whose tensors live in CPU memory update flat arrays; GPU backends keep state on the device.
    const make = (layout: ReturnType<typeof makeLayout>, adam: { lr: number; beta1: number; beta2: number }, ema: boolean): NetState =>
      shared ? new FlatNet(layout, adam, ema, sharedAlloc) : hasFastKernels() ? new FlatNet(layout, adam, ema) : new DeviceNet(layout, adam, ema)
    this.g = make(makeLayout(gSpecs), { lr: o.gLr, beta1: o.gBeta1, beta2: o.gBeta2 }, true)
    this.d = make(makeLayout(dSpecs), { lr: o.dLr, beta1: o.dBeta1, beta2: o.dBeta2 }, false)
    this.g.init(gSpecs, this.rng)
    this.d.init(dSpecs, this.rng)
  }

  /** Latents drawn from the training RNG. */
  randomLatents(batch: number): tf.Tensor2D {
    const z = this.rng.fillNormal(new Float32Array(batch * this.spec.latentDim))
    return tf.tensor2d(z, [batch, this.spec.latentDim])
  }

  /** A lookup over both networks' current parameters. */
  private params(): Params {
    const g = this.g.lookup()
    const d = this.d.lookup()
    return (name) => (name.startsWith('g/') ? g(name) : d(name))
  }

  /** Draws everything random in one step, in a fixed order (the same for any number of workers). */
  drawInputs(batch: number, size: number): StepInputs {
    const z = this.rng.fillNormal(new Float32Array(batch * this.spec.latentDim))
    const policy = this.options.augment
    const augFake = drawAugment(policy, batch, size, this.rng)
    const augReal = drawAugment(policy, batch, size, this.rng)
    const imageSeeds = new Uint32Array(batch)
    for (let i = 0; i < batch; i++) imageSeeds[i] = this.rng.nextUint32()
    this.dSteps += 1
    const { r1Gamma, r1Every } = this.options.loss
    return { z, augFake, augReal, imageSeeds, applyR1: r1Gamma > 0 && this.dSteps % r1Every === 0 }
  }

  /** Gradients of one step on `real` (NHWC in [-1, 1], not disposed), as kept tensors by name. */
  computeGradients(real: tf.Tensor4D): { gGrads: Map<string, tf.Tensor>; dGrads: Map<string, tf.Tensor>; scalars: StepTensors } {
    const inputs = this.drawInputs(real.shape[0], real.shape[1])
    return stepGradients(this.context(), real, inputs, real.shape[0])
  }

  context(): StepContext {
    return { family: this.family, spec: this.spec, options: this.options, params: this.params(), dNames: this.d.layout.slots.map((s) => s.name) }
  }

  /** Applies one step's gradients: G, then its moving average, then D. Disposes the gradients. */
  applyGradients(gGrads: Map<string, tf.Tensor>, dGrads: Map<string, tf.Tensor>): void {
    const { enabled, decay } = this.options.ema
    this.g.apply(gGrads, enabled ? emaDecayAt(decay, this.g.step + 1) : 0)
    this.d.apply(dGrads, null)
    tf.dispose([...gGrads.values(), ...dGrads.values()])
  }

  /** One training step. */
  trainStep(real: tf.Tensor4D): StepTensors {
    const { gGrads, dGrads, scalars } = this.computeGradients(real)
    this.applyGradients(gGrads, dGrads)
    return scalars
  }

  /** Images in [-1, 1] from the EMA generator (or the raw one) for the given latents. */
  generate(z: tf.Tensor2D, useEma = true): tf.Tensor4D {
    const p = this.g.lookup(useEma)
    return tf.tidy(() => this.family.generate(this.spec, p, z, null, { training: false }))
  }

  /** Latents for fixed seeds: one seed, one image, in every run and every tool. */
  latentsForSeeds(seeds: number[]): tf.Tensor2D {
    const dim = this.spec.latentDim
    const flat = new Float32Array(seeds.length * dim)
    seeds.forEach((s, i) => flat.set(latentForSeed(s, dim), i * dim))
    return tf.tensor2d(flat, [seeds.length, dim])
  }

  /** Named arrays for a checkpoint (copies). */
  async state(): Promise<GanState> {
    const tensors: GanState['tensors'] = {}
    const g = await this.g.read()
    const d = await this.d.read()
    for (const s of this.g.layout.slots) {
      const part = (a: Float32Array): { shape: number[]; data: Float32Array } => ({ shape: s.shape, data: a.slice(s.offset, s.offset + s.length) })
      tensors[s.name] = part(g.values)
      tensors[`ema/${s.name}`] = part(g.ema!)
      tensors[`opt/${s.name}/m`] = part(g.m)
      tensors[`opt/${s.name}/v`] = part(g.v)
    }
    for (const s of this.d.layout.slots) {
      const part = (a: Float32Array): { shape: number[]; data: Float32Array } => ({ shape: s.shape, data: a.slice(s.offset, s.offset + s.length) })
      tensors[s.name] = part(d.values)
      tensors[`opt/${s.name}/m`] = part(d.m)
      tensors[`opt/${s.name}/v`] = part(d.v)
    }
    tensors['counters/dSteps'] = { shape: [], data: Float32Array.of(this.dSteps) }
    return { tensors, gOptStep: this.g.step, dOptStep: this.d.step, rng: this.rng.getState() }
  }

  /** Restores weights, EMA, optimizer moments and RNG; shapes must match this model's config. */
  load(state: GanState): void {
    const unpack = (net: NetState, withEma: boolean) => {
      const size = net.layout.size
      const out = { values: new Float32Array(size), m: new Float32Array(size), v: new Float32Array(size), ema: withEma ? new Float32Array(size) : null }
      const copy = (key: string, shape: number[], dst: Float32Array, offset: number, required: boolean): void => {
        const t = state.tensors[key]
        if (!t) {
          if (required) throw new Error(`checkpoint is missing ${key}`)
          return
        }
        if (t.shape.join('x') !== shape.join('x')) throw new Error(`checkpoint ${key} has shape ${t.shape.join('×')}, the model expects ${shape.join('×')}`)
        dst.set(t.data, offset)
      }
      for (const s of net.layout.slots) {
        copy(s.name, s.shape, out.values, s.offset, true)
        if (out.ema) copy(`ema/${s.name}`, s.shape, out.ema, s.offset, true)
        copy(`opt/${s.name}/m`, s.shape, out.m, s.offset, false)
        copy(`opt/${s.name}/v`, s.shape, out.v, s.offset, false)
      }
      return out
    }
    this.g.write(unpack(this.g, true))
    this.d.write(unpack(this.d, false))
    this.g.step = state.gOptStep
    this.d.step = state.dOptStep
    this.dSteps = state.tensors['counters/dSteps']?.data[0] ?? state.dOptStep
    this.rng.setState(state.rng)
  }

  dispose(): void {
    this.g.dispose()
    this.d.dispose()
  }
}
