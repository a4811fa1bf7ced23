import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { recommendedSettings } from '@shared/recipes'
import { Gan, ganOptionsFromConfig, modeSeekingGradient } from '../../../../src/main/trainer/model/gan'
import { useWasm } from '../../../helpers/backend'

beforeAll(useWasm)

/** The mode-seeking term as plain tf ops, for autograd: λ·(n/total) / (mean over pairs of mean|Δpooled image| ÷ mean|Δz| + ε). */
function term(fake: tf.Tensor4D, z: tf.Tensor2D, lambda: number, total: number, pool = 1): tf.Scalar {
  const n = fake.shape[0]
  const h = Math.floor(n / 2)
  const pooled = pool > 1 ? tf.avgPool(fake, pool, pool, 'valid') : fake
  const a = tf.slice(pooled, [0, 0, 0, 0], [h, -1, -1, -1])
  const b = tf.slice(pooled, [h, 0, 0, 0], [h, -1, -1, -1])
  const zd = tf.mean(tf.abs(tf.sub(tf.slice(z, [0, 0], [h, -1]), tf.slice(z, [h, 0], [h, -1]))), 1)
  const r = tf.mean(tf.div(tf.mean(tf.abs(tf.sub(a, b)), [1, 2, 3]), zd))
  return tf.div(tf.scalar((lambda * n) / total), tf.add(r, 1e-5))
}

describe('mode-seeking term', () => {
  it.each([
    [6, 1],
    [7, 1],
    [6, 2],
    [7, 4]
  ])('its gradient matches autograd of the term (%i images, the odd one unpaired; pooled by %i)', async (n, pool) => {
    const fake = tf.randomUniform([n, 4, 4, 3], -1, 1, 'float32', 3) as tf.Tensor4D
    const z = tf.randomNormal([n, 8], 0, 1, 'float32', 4) as tf.Tensor2D
    const before = tf.memory().numTensors
    const ours = modeSeekingGradient(fake, z, 0.7, 32, pool)!
    expect(tf.memory().numTensors).toBe(before + 1)
    const ref = tf.grad((x: tf.Tensor) => term(x as tf.Tensor4D, z, 0.7, 32, pool))(fake)
    const [a, b] = [await ours.data(), await ref.data()]
    expect(a.length).toBe(n * 48)
    let maxErr = 0
    let maxRef = 0
    for (let i = 0; i < a.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!))
      maxRef = Math.max(maxRef, Math.abs(b[i]!))
    }
    expect(maxRef).toBeGreaterThan(0)
    expect(maxErr / maxRef).toBeLessThan(1e-4)
    if (n % 2) expect(Array.from(a.slice((n - 1) * 48)).every((v) => v === 0)).toBe(true)
    tf.dispose([fake, z, ours, ref])
  })

  it('pooled, it ignores pixel noise that averages out and pushes on what differs at the coarse scale', async () => {
    const z = tf.randomNormal([2, 8], 0, 1, 'float32', 9) as tf.Tensor2D
    // Two images with (nearly) the same 2×2 averages but opposite checkerboards.
    const checker = tf.tensor4d(Array.from({ length: 16 * 3 }, (_, i) => ((Math.floor(i / 3) % 4) + Math.floor(i / 12)) % 2 ? 0.5 : -0.5), [1, 4, 4, 3])
    const fake = tf.concat([checker, tf.add(tf.neg(checker), 0.001)]) as tf.Tensor4D
    const pixelwise = modeSeekingGradient(fake, z, 1, 2, 1)!
    const pooled = modeSeekingGradient(fake, z, 1, 2, 2)!
    const norm = (t: tf.Tensor): number => tf.tidy(() => tf.norm(t).dataSync()[0]!)
    // Pixel by pixel they differ a lot (a weak push); pooled they are the same picture (a strong one).
    expect(norm(pooled)).toBeGreaterThan(1000 * norm(pixelwise))
    // And the pooled push is flat over each 2×2 cell: it moves colours and layout, not single pixels.
    const g = await pooled.data()
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expect(g[(y * 4 + x) * 3]).toBe(g[((y & ~1) * 4 + (x & ~1)) * 3])
    tf.dispose([z, checker, fake, pixelwise, pooled])
  })

  it('is strongest when the images are alike and fades as they differ', () => {
    const z = tf.randomNormal([4, 8], 0, 1, 'float32', 5) as tf.Tensor2D
    const alike = tf.add(tf.zeros([4, 4, 4, 3]), tf.randomUniform([4, 4, 4, 3], -0.01, 0.01, 'float32', 6)) as tf.Tensor4D
    const apart = tf.randomUniform([4, 4, 4, 3], -1, 1, 'float32', 7) as tf.Tensor4D
    const norm = (t: tf.Tensor): number => tf.tidy(() => tf.norm(t).dataSync()[0]!)
    const gAlike = modeSeekingGradient(alike, z, 1, 4)!
    const gApart = modeSeekingGradient(apart, z, 1, 4)!
    expect(norm(gAlike)).toBeGreaterThan(100 * norm(gApart))
    tf.dispose([z, alike, apart, gAlike, gApart])
  })

  it('trains with the 32 px recipe (which turns it on) without leaking tensors', async () => {
    const recipe = recommendedSettings(32, 500)
    expect(recipe.loss.modeSeeking).toBeGreaterThan(0)
    const config = RunConfigSchema.parse({ source: '/x', ...recipe, model: { ...recipe.model, gChannels: 8, dChannels: 8, latentDim: 16 } })
    const gan = new Gan(ganOptionsFromConfig(config))
    const real = tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', 8) as tf.Tensor4D
    const step = async (): Promise<number> => {
      const s = gan.trainStep(real)
      const g = (await s.gLoss.data())[0]!
      tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? []])
      return g
    }
    expect(Number.isFinite(await step())).toBe(true)
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) expect(Number.isFinite(await step())).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    real.dispose()
    gan.dispose()
  })

  it('is off for runs saved before it existed', () => {
    expect(RunConfigSchema.parse({ source: '/x' }).loss.modeSeeking).toBe(0)
  })
})
