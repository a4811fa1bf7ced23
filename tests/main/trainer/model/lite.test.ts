import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { familyFor } from '../../../../src/main/trainer/model/families'
import { Gan, ganOptionsFromConfig } from '../../../../src/main/trainer/model/gan'
import { useWasm } from '../../../helpers/backend'

const config = (resolution: 32 | 64, mbstd = false, gNorm: 'channel' | 'none' = 'channel') =>
  RunConfigSchema.parse({ source: '/x', preprocess: { resolution }, model: { arch: 'lite', gChannels: 8, dChannels: 8, latentDim: 16, mbstd, gNorm }, augment: { translation: true } })

beforeAll(useWasm)

describe('lite family', () => {
  it.each([
    [32, false],
    [64, false],
    [32, true]
  ] as const)('trains at %i px (minibatch stddev: %s) without leaking tensors, and its samples stay in range', async (resolution, mbstd) => {
    const gan = new Gan(ganOptionsFromConfig(config(resolution, mbstd)))
    const real = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([4, resolution, resolution, 3], 0, 1, 'float32', 3), 2), 1)) as tf.Tensor4D
    const read = (s: ReturnType<Gan['trainStep']>): number[] => {
      const v = [s.gLoss, s.dLoss, s.dReal, s.dFake].map((t) => t.dataSync()[0]!)
      tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake])
      return v
    }
    read(gan.trainStep(real))
    const before = tf.memory().numTensors
    for (let i = 0; i < 2; i++) expect(read(gan.trainStep(real)).every(Number.isFinite)).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    const images = gan.generate(gan.latentsForSeeds([1, 2]))
    expect(images.shape).toEqual([2, resolution, resolution, 3])
    expect(images.max().dataSync()[0]).toBeLessThanOrEqual(1)
    images.dispose()
    real.dispose()
    gan.dispose()
  })

  it.each([false, true])('trains with the R1 penalty (a gradient of a gradient through pooling and upsampling; minibatch stddev: %s)', (mbstd) => {
    const withR1 = RunConfigSchema.parse({ ...config(32, mbstd, 'none'), loss: { type: 'hinge', r1Gamma: 0.2, r1Every: 1 } })
    const gan = new Gan(ganOptionsFromConfig(withR1))
    const real = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 5), 2), 1)) as tf.Tensor4D
    const step = (): number => {
      const s = gan.trainStep(real)
      expect(s.r1).toBeTruthy()
      const r1 = s.r1!.dataSync()[0]!
      tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1!])
      return r1
    }
    step()
    const before = tf.memory().numTensors
    const r1 = step()
    expect(Number.isFinite(r1) && r1 > 0).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    real.dispose()
    gan.dispose()
  })

  it('makes one image per seed whatever else is in the batch (no noise at inference)', () => {
    const gan = new Gan(ganOptionsFromConfig(config(32)))
    const alone = tf.tidy(() => gan.generate(gan.latentsForSeeds([7])).dataSync())
    const inBatch = tf.tidy(() => gan.generate(gan.latentsForSeeds([3, 7, 11])).slice([1], [1]).dataSync())
    for (let i = 0; i < alone.length; i++) expect(Math.abs(inBatch[i]! - alone[i]!)).toBeLessThan(1e-5)
    gan.dispose()
  })

  it.each(['channel', 'none'] as const)('exports to a standard tfjs layers model that makes the same images (generator norm: %s)', async (gNorm) => {
    const cfg = config(64, false, gNorm)
    const gan = new Gan(ganOptionsFromConfig(cfg))
    // Lively weights: the initial ones are small and would hide differences.
    const g = await gan.g.read()
    for (let i = 0; i < g.values.length; i++) g.values[i] = g.ema![i] = Math.sin(i * 12.9898) * 0.3
    gan.g.write(g)
    const family = familyFor('lite')
    const spec = family.spec(cfg)
    const values: Record<string, { shape: number[]; data: Float32Array }> = {}
    for (const s of gan.g.layout.slots) values[s.name] = { shape: s.shape, data: g.ema!.slice(s.offset, s.offset + s.length) }
    const model = family.exportGenerator(spec, values)
    const z = gan.latentsForSeeds([5, 6, 7])
    const expected = gan.generate(z)
    const got = model.predict(z) as tf.Tensor
    const diff = tf.max(tf.abs(tf.sub(expected, got))).dataSync()[0]!
    const spread = tf.moments(expected).variance.dataSync()[0]!
    expect(spread).toBeGreaterThan(1e-3)
    expect(diff).toBeLessThan(1e-3) // float summation order differs between the two convolution paths; a 255th is 4e-3
    // Standard layers only: it round-trips through JSON.
    const json = model.toJSON(null, false) as { config: { layers: { class_name: string }[] } }
    const classes = new Set(json.config.layers.map((l) => l.class_name))
    expect([...classes].every((c) => ['InputLayer', 'Dense', 'Reshape', 'LayerNormalization', 'Conv2D', 'Multiply', 'Conv2DTranspose', 'AveragePooling2D', 'LeakyReLU'].includes(c))).toBe(true)
    tf.dispose([z, expected, got])
    model.dispose()
    gan.dispose()
  })
})
