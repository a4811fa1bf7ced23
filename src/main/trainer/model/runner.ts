import * as tf from '@tensorflow/tfjs'
import type { BaseSpec, ModelFamily } from './family'
import { Gan, type GanOptions, type GanState, type StepTensors } from './gan'
import type { Rng } from './rng'

/**
 * What the training loop drives: one step on a batch of real images, images from the EMA
 * generator, and the state for checkpoints. `LocalRunner` does it in this thread;
 * `ParallelRunner` (parallel/) splits each batch across worker threads.
 */

/** A step's scalars as numbers (already read) or as device tensors (read every few steps). */
export type StepScalars = StepTensors | StepNumbers

export interface StepNumbers {
  gLoss: number
  dLoss: number
  dReal: number
  dFake: number
  r1: number | null
}

export interface GanRunner {
  readonly family: ModelFamily
  readonly spec: BaseSpec
  /** The trainer's RNG (batch order's flips draw from it too). */
  readonly rng: Rng
  /** Where the next batch's real images go: NHWC in [-1, 1], `batch × R × R × 3` floats. */
  realBuffer(batch: number): Float32Array
  /** One step on the first `batch` images of the real buffer. */
  step(batch: number): Promise<StepScalars>
  /** Images in [-1, 1] (NHWC) from the EMA generator for `count` latents. */
  generate(latents: Float32Array, count: number): Promise<Float32Array>
  state(): Promise<GanState>
  load(state: GanState): Promise<void>
  /** e.g. "2 worker threads" (for the log). */
  describe(): string
  dispose(): Promise<void>
}

/** Runs every step in this thread on the active tfjs backend. */
export class LocalRunner implements GanRunner {
  readonly gan: Gan
  private buffer = new Float32Array(0)

  constructor(options: GanOptions) {
    this.gan = new Gan(options)
  }

  get family(): ModelFamily {
    return this.gan.family
  }

  get spec(): BaseSpec {
    return this.gan.spec
  }

  get rng(): Rng {
    return this.gan.rng
  }

  realBuffer(batch: number): Float32Array {
    const size = batch * this.spec.resolution * this.spec.resolution * 3
    if (this.buffer.length < size) this.buffer = new Float32Array(size)
    return this.buffer.subarray(0, size)
  }

  async step(batch: number): Promise<StepScalars> {
    const r = this.spec.resolution
    const real = tf.tensor4d(this.realBuffer(batch), [batch, r, r, 3])
    try {
      return this.gan.trainStep(real)
    } finally {
      real.dispose()
    }
  }

  async generate(latents: Float32Array, count: number): Promise<Float32Array> {
    const z = tf.tensor2d(latents, [count, this.spec.latentDim])
    const images = this.gan.generate(z)
    z.dispose()
    try {
      return (await images.data()) as Float32Array
    } finally {
      images.dispose()
    }
  }

  state(): Promise<GanState> {
    return this.gan.state()
  }

  async load(state: GanState): Promise<void> {
    this.gan.load(state)
  }

  describe(): string {
    return 'one thread'
  }

  async dispose(): Promise<void> {
    this.gan.dispose()
  }
}
