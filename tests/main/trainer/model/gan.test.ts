import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema, type RunConfigInput } from '@shared/config'
import { discriminatorChannels, generatorChannels, type DcganSpec } from '../../../../src/main/trainer/model/families/dcgan'
import { familyFor } from '../../../../src/main/trainer/model/families'
import { emaDecayAt, Gan, ganOptionsFromConfig, type StepTensors } from '../../../../src/main/trainer/model/gan'
import { useWasm } from '../../../helpers/backend'

const tiny = (over: Partial<RunConfigInput> = {}): Gan =>
  new Gan(ganOptionsFromConfig(RunConfigSchema.parse({ source: '/x', model: { gChannels: 8, dChannels: 8, latentDim: 16 }, ...over })))

function realBatch(n = 4, res = 32): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([n, res, res, 3], 0, 1, 'float32', 11), 2), 1)) as tf.Tensor4D
}

async function read(s: StepTensors): Promise<number[]> {
  const vals = await Promise.all([s.gLoss.data(), s.dLoss.data(), s.dReal.data(), s.dFake.data()])
  tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? []])
  return vals.map((v) => v[0]!)
}

const weights = async (gan: Gan): Promise<number[]> => {
  const [g, d] = [await gan.g.read(), await gan.d.read()]
  return [...g.values.slice(0, 64), ...d.values.slice(0, 64), ...d.values.slice(-64)]
}

beforeAll(useWasm)

describe('dcgan family', () => {
  it.each([32, 64, 128])('follows the resolution (%i px)', (resolution) => {
    const config = RunConfigSchema.parse({ source: '/x', preprocess: { resolution }, model: { latentDim: 16, gChannels: 8, dChannels: 8 } })
    const family = familyFor('dcgan')
    const spec = family.spec(config) as DcganSpec
    const stages = Math.log2(resolution) - 2
    expect(generatorChannels(spec)).toHaveLength(stages)
    expect(discriminatorChannels(spec)).toHaveLength(stages)
    const gan = new Gan(ganOptionsFromConfig(config))
    const images = gan.generate(tf.ones([2, 16]))
    expect(images.shape).toEqual([2, resolution, resolution, 3])
    const [min, max] = [images.min().dataSync()[0]!, images.max().dataSync()[0]!]
    expect(min).toBeGreaterThanOrEqual(-1)
    expect(max).toBeLessThanOrEqual(1)
    const logits = tf.tidy(() => family.discriminate(spec, gan.d.lookup(), images, null, false).logits)
    expect(logits.shape).toEqual([2])
    tf.dispose([images, logits])
    gan.dispose()
  })
})

describe('Gan', () => {
  it('updates every parameter of G and D, and moves the EMA towards G', async () => {
    const gan = tiny({ ema: { decay: 0.5 } })
    const perParam = (values: Float32Array, net: typeof gan.g) => Object.fromEntries(net.layout.slots.map((s) => [s.name, Array.from(values.subarray(s.offset, s.offset + s.length))]))
    const g0 = perParam((await gan.g.read()).values, gan.g)
    const d0 = perParam((await gan.d.read()).values, gan.d)
    const real = realBatch()
    await read(gan.trainStep(real))
    const [g, d] = [await gan.g.read(), await gan.d.read()]
    for (const [k, v] of Object.entries(perParam(g.values, gan.g))) expect(v, k).not.toEqual(g0[k])
    for (const [k, v] of Object.entries(perParam(d.values, gan.d))) expect(v, k).not.toEqual(d0[k])
    const g1 = perParam(g.values, gan.g)['g/rgb/kernel']!
    const ema = perParam(g.ema!, gan.g)['g/rgb/kernel']!
    const b = emaDecayAt(0.5, 1)
    expect(b).toBeCloseTo(2 / 11, 9)
    ema.forEach((e, i) => expect(e).toBeCloseTo(b * g0['g/rgb/kernel']![i]! + (1 - b) * g1[i]!, 6))
    real.dispose()
    gan.dispose()
  })

  it.each(['none', 'batch'] as const)('does not leak tensors across steps, nor once disposed (discriminator norm: %s)', async (dNorm) => {
    const start = tf.memory().numTensors
    const gan = tiny({ loss: { r1Gamma: 1, r1Every: 2 }, augment: { color: true, translation: true, cutout: true }, model: { gChannels: 8, dChannels: 8, latentDim: 16, dNorm } })
    const real = realBatch()
    await read(gan.trainStep(real))
    const before = tf.memory().numTensors
    for (let i = 0; i < 4; i++) await read(gan.trainStep(real))
    expect(tf.memory().numTensors).toBe(before)
    real.dispose()
    gan.dispose()
    expect(tf.memory().numTensors).toBe(start)
  })

  it('is reproducible: the same seed gives the same losses and weights', async () => {
    const run = async (seed: number): Promise<{ losses: number[]; w: number[] }> => {
      const gan = tiny({ seed, augment: { xflip: true, translation: true, color: true, cutout: true } })
      const real = realBatch()
      const losses: number[] = []
      for (let i = 0; i < 3; i++) losses.push(...(await read(gan.trainStep(real))))
      const w = await weights(gan)
      real.dispose()
      gan.dispose()
      return { losses, w }
    }
    const a = await run(5)
    const b = await run(5)
    const c = await run(6)
    expect(b).toEqual(a)
    expect(c.w).not.toEqual(a.w)
  })

  it('continues identically after its state is saved and loaded into a new model', async () => {
    const real = realBatch()
    const a = tiny({ seed: 9, loss: { type: 'hinge' } })
    await read(a.trainStep(real))
    const snapshot = await a.state()
    const expected = await read(a.trainStep(real))
    const b = tiny({ seed: 1234, loss: { type: 'hinge' } })
    b.load(snapshot)
    expect(await read(b.trainStep(real))).toEqual(expected)
    expect(await weights(b)).toEqual(await weights(a))
    tf.dispose(real)
    a.dispose()
    b.dispose()
  })

  it.each([
    [false, 'none'],
    [true, 'none'],
    [false, 'batch']
  ] as const)('computes an R1 penalty on the lazy steps only (minibatch stddev: %s, discriminator norm: %s)', async (mbstd, dNorm) => {
    const gan = tiny({ loss: { r1Gamma: 10, r1Every: 2 }, model: { gChannels: 8, dChannels: 8, latentDim: 16, mbstd, dNorm } })
    const real = realBatch()
    const s1 = gan.trainStep(real)
    expect(s1.r1).toBeNull()
    await read(s1)
    const s2 = gan.trainStep(real)
    expect(s2.r1).not.toBeNull()
    const r1 = (await s2.r1!.data())[0]!
    expect(Number.isFinite(r1)).toBe(true)
    expect(r1).toBeGreaterThan(0)
    await read(s2)
    real.dispose()
    gan.dispose()
  })

  it('makes one image per seed whatever else is in the batch', () => {
    const gan = tiny()
    const alone = tf.tidy(() => gan.generate(gan.latentsForSeeds([7])).dataSync())
    const inBatch = tf.tidy(() => gan.generate(gan.latentsForSeeds([3, 7, 11])).slice([1], [1]).dataSync())
    expect(inBatch.length).toBe(alone.length)
    for (let i = 0; i < alone.length; i++) expect(Math.abs(inBatch[i]! - alone[i]!)).toBeLessThan(1e-5)
    gan.dispose()
  })

  it('learns: D separates real from generated images after some steps', async () => {
    const gan = tiny({ optimizer: { dLr: 0.001, gLr: 0.0001 } })
    const real = tf.tidy(() => tf.add(tf.zeros([8, 32, 32, 3]), 0.8)) as tf.Tensor4D // a flat, bright "dataset"
    let last: number[] = []
    for (let i = 0; i < 15; i++) last = await read(gan.trainStep(real))
    const [, , dReal, dFake] = last as [number, number, number, number]
    expect(dReal).toBeGreaterThan(dFake)
    real.dispose()
    gan.dispose()
  })
})
