import * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '@shared/config'
import { Adam } from './adam'
import { diffAugment, isIdentity, type AugmentPolicy } from './augment'
import {
  discriminatorForward,
  discriminatorParams,
  generatorForward,
  generatorParams,
  initialValue,
  type NetSpec,
  type ParamSpec
} from './networks'
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
  spec: NetSpec
  loss: RunConfig['loss']
  optimizer: RunConfig['optimizer']
  augment: AugmentPolicy
  ema: RunConfig['ema']
  seed: number
}

export function ganOptionsFromConfig(config: RunConfig): GanOptions {
  return {
    spec: {
      resolution: config.preprocess.resolution,
      latentDim: config.model.latentDim,
      gChannels: config.model.gChannels,
      dChannels: config.model.dChannels
    },
    loss: config.loss,
    optimizer: config.optimizer,
    augment: { color: config.augment.color, translation: config.augment.translation, cutout: config.augment.cutout },
    ema: config.ema,
    seed: config.seed
  }
}

/** Everything needed to continue a run exactly: weights, optimizer moments, counters, RNG. */
export interface GanState {
  tensors: Record<string, tf.Tensor>
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

function makeVariables(params: ParamSpec[], rng: Rng, trainable: boolean): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {}
  tf.tidy(() => {
    for (const p of params) out[p.name] = tf.variable(tf.tensor(initialValue(p, rng), p.shape), trainable)
  })
  return out
}

/**
 * A generator, a discriminator, an EMA copy of the generator and two Adam optimizers; one
 * `trainStep` updates G then D. Pure tfjs, no I/O: the training loop owns data, logging and files.
 */
export class Gan {
  readonly spec: NetSpec
  readonly rng: Rng
  readonly g: Record<string, tf.Variable>
  readonly d: Record<string, tf.Variable>
  readonly gEma: Record<string, tf.Variable>
  readonly gOpt: Adam
  readonly dOpt: Adam
  private dSteps = 0

  constructor(readonly options: GanOptions) {
    registerSecondOrderGradients()
    this.spec = options.spec
    this.rng = new Rng(options.seed)
    this.g = makeVariables(generatorParams(this.spec), this.rng, true)
    this.d = makeVariables(discriminatorParams(this.spec), this.rng, true)
    this.gEma = {}
    tf.tidy(() => {
      for (const [name, v] of Object.entries(this.g)) this.gEma[name] = tf.variable(v.clone(), false)
    })
    const o = options.optimizer
    this.gOpt = new Adam(o.gLr, o.gBeta1, o.gBeta2)
    this.dOpt = new Adam(o.dLr, o.dBeta1, o.dBeta2)
  }

  /** Latents drawn from the training RNG. */
  randomLatents(batch: number): tf.Tensor2D {
    const z = this.rng.fillNormal(new Float32Array(batch * this.spec.latentDim))
    return tf.tensor2d(z, [batch, this.spec.latentDim])
  }

  private augment(x: tf.Tensor4D): tf.Tensor4D {
    return isIdentity(this.options.augment) ? x : diffAugment(x, this.options.augment, this.rng)
  }

  private gLossFrom(fakeLogits: tf.Tensor1D): tf.Scalar {
    return this.options.loss.type === 'hinge' ? tf.neg(tf.mean(fakeLogits)) : tf.mean(tf.softplus(tf.neg(fakeLogits)))
  }

  private dLossFrom(realLogits: tf.Tensor1D, fakeLogits: tf.Tensor1D): tf.Scalar {
    if (this.options.loss.type === 'hinge') {
      return tf.add(tf.mean(tf.relu(tf.sub(1, realLogits))), tf.mean(tf.relu(tf.add(1, fakeLogits))))
    }
    return tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits)))
  }

  /**
   * One generator step, then one discriminator step on the same generated batch (so G runs
   * forward once per iteration). `real` is NHWC in [-1, 1]; it is not disposed here.
   */
  trainStep(real: tf.Tensor4D): StepTensors {
    const batch = real.shape[0]
    const z = this.randomLatents(batch)
    const spec = this.spec

    // Generator: maximise D's belief that its images are real.
    let fake: tf.Tensor4D | null = null
    const gStep = tf.variableGrads(() => {
      const generated = generatorForward(spec, this.g, z)
      fake = tf.keep(generated)
      return this.gLossFrom(discriminatorForward(spec, this.d, this.augment(generated)))
    }, Object.values(this.g))
    this.gOpt.apply(this.g, gStep.grads)
    tf.dispose(gStep.grads)
    this.updateEma()

    // Discriminator: real → high, generated → low; optional lazy R1 on reals.
    this.dSteps += 1
    const { r1Gamma, r1Every } = this.options.loss
    const applyR1 = r1Gamma > 0 && this.dSteps % r1Every === 0
    let dReal: tf.Scalar | null = null
    let dFake: tf.Scalar | null = null
    let r1: tf.Scalar | null = null
    const fakeDetached = fake as unknown as tf.Tensor4D
    const dStep = tf.variableGrads(() => {
      const realIn = this.augment(real)
      const realLogits = discriminatorForward(spec, this.d, realIn)
      const fakeLogits = discriminatorForward(spec, this.d, this.augment(fakeDetached))
      dReal = tf.keep(tf.mean(realLogits))
      dFake = tf.keep(tf.mean(fakeLogits))
      let loss = this.dLossFrom(realLogits, fakeLogits)
      if (applyR1) {
        const gradX = tf.grad((x: tf.Tensor) => tf.sum(discriminatorForward(spec, this.d, x as tf.Tensor4D)))(realIn)
        const penalty: tf.Scalar = tf.mean(tf.sum(tf.square(gradX), [1, 2, 3]))
        r1 = tf.keep(penalty)
        loss = tf.add(loss, tf.mul(penalty, (r1Gamma / 2) * r1Every))
      }
      return loss
    }, Object.values(this.d))
    this.dOpt.apply(this.d, dStep.grads)
    tf.dispose(dStep.grads)
    tf.dispose([z, fakeDetached])

    return { gLoss: gStep.value, dLoss: dStep.value, dReal: dReal!, dFake: dFake!, r1 }
  }

  private updateEma(): void {
    const { enabled } = this.options.ema
    const decay = emaDecayAt(this.options.ema.decay, this.gOpt.step)
    tf.tidy(() => {
      for (const [name, v] of Object.entries(this.g)) {
        const ema = this.gEma[name]!
        ema.assign(enabled ? tf.add(tf.mul(ema, decay), tf.mul(v, 1 - decay)) : v)
      }
    })
  }

  /** Images in [-1, 1] from the EMA generator (or the raw one) for the given latents. */
  generate(z: tf.Tensor2D, useEma = true): tf.Tensor4D {
    return tf.tidy(() => generatorForward(this.spec, useEma ? this.gEma : this.g, z))
  }

  /** Latents for fixed seeds: one seed, one image, in every run and every tool. */
  latentsForSeeds(seeds: number[]): tf.Tensor2D {
    const dim = this.spec.latentDim
    const flat = new Float32Array(seeds.length * dim)
    seeds.forEach((s, i) => flat.set(latentForSeed(s, dim), i * dim))
    return tf.tensor2d(flat, [seeds.length, dim])
  }

  state(): GanState {
    const tensors: Record<string, tf.Tensor> = {}
    for (const [k, v] of Object.entries(this.g)) tensors[k] = v
    for (const [k, v] of Object.entries(this.d)) tensors[k] = v
    for (const [k, v] of Object.entries(this.gEma)) tensors[`ema/${k}`] = v
    for (const [k, v] of Object.entries(this.gOpt.state())) tensors[`opt/${k}`] = v
    for (const [k, v] of Object.entries(this.dOpt.state())) tensors[`opt/${k}`] = v
    tensors['counters/dSteps'] = tf.scalar(this.dSteps) // disposed by the caller after saving
    return { tensors, gOptStep: this.gOpt.step, dOptStep: this.dOpt.step, rng: this.rng.getState() }
  }

  /** Restores weights, EMA, optimizer moments and RNG; shapes must match this model's config. */
  load(state: { tensors: Record<string, { shape: number[]; data: Float32Array }>; gOptStep: number; dOptStep: number; rng: [number, number, number, number] }): void {
    const get = (key: string, like: tf.Variable): tf.Tensor => {
      const t = state.tensors[key]
      if (!t) throw new Error(`checkpoint is missing ${key}`)
      if (t.shape.join('x') !== like.shape.join('x'))
        throw new Error(`checkpoint ${key} has shape ${t.shape.join('×')}, the model expects ${like.shape.join('×')}`)
      return tf.tensor(t.data, t.shape)
    }
    tf.tidy(() => {
      for (const [k, v] of Object.entries(this.g)) v.assign(get(k, v))
      for (const [k, v] of Object.entries(this.d)) v.assign(get(k, v))
      for (const [k, v] of Object.entries(this.gEma)) v.assign(get(`ema/${k}`, v))
    })
    const optTensors = (prefix: 'g/' | 'd/'): Record<string, tf.Tensor> => {
      const out: Record<string, tf.Tensor> = {}
      for (const [k, t] of Object.entries(state.tensors))
        if (k.startsWith(`opt/${prefix}`)) out[k.slice(4)] = tf.tensor(t.data, t.shape)
      return out
    }
    const gOpt = optTensors('g/')
    const dOpt = optTensors('d/')
    this.gOpt.load(state.gOptStep, gOpt)
    this.dOpt.load(state.dOptStep, dOpt)
    tf.dispose([...Object.values(gOpt), ...Object.values(dOpt)])
    this.dSteps = state.tensors['counters/dSteps']?.data[0] ?? state.dOptStep
    this.rng.setState(state.rng)
  }

  dispose(): void {
    tf.dispose([...Object.values(this.g), ...Object.values(this.d), ...Object.values(this.gEma)])
    this.gOpt.dispose()
    this.dOpt.dispose()
  }
}
