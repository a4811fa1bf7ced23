import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema, type RunConfigInput } from '@shared/config'
import { generatorChannels, type DcganSpec } from '../../../../src/main/trainer/model/families/dcgan'
import { familyFor } from '../../../../src/main/trainer/model/families'
import { familyCost } from '../../../../src/main/trainer/model/families/costs'
import { Gan, ganOptionsFromConfig } from '../../../../src/main/trainer/model/gan'
import { NORM_EPSILON } from '../../../../src/main/trainer/nn/ops'
import { useWasm } from '../../../helpers/backend'

/** DCGAN's `gUpsample: nearest`: nearest ×2 + 3×3 conv at every up-step, instead of free 4×4 transposed convs. */

const config = (over: Partial<NonNullable<RunConfigInput['model']>> = {}, resolution: 32 | 64 = 32) =>
  RunConfigSchema.parse({ source: '/x', preprocess: { resolution }, model: { latentDim: 16, gChannels: 8, dChannels: 8, gUpsample: 'nearest', ...over } })

beforeAll(useWasm)

/** The generator written out with plain tf ops: resizeNearestNeighbor then conv2d 'same' at each step. */
function reference(spec: DcganSpec, values: Map<string, tf.Tensor>, z: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const v = (n: string): tf.Tensor => values.get(n)!
    const ch = generatorChannels(spec)
    const norm = (x: tf.Tensor4D, i: number): tf.Tensor4D => {
      const { mean, variance } = tf.moments(x, -1, true)
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, NORM_EPSILON))), v(`g/norm${i}/gamma`)), v(`g/norm${i}/beta`)) as tf.Tensor4D
    }
    // upConv kernels are [3, 3, out, in]; tf.conv2d wants [3, 3, in, out]. A 4×4 kernel is a transposed conv's.
    const up = (x: tf.Tensor4D, name: string): tf.Tensor4D => {
      const w = v(`g/${name}/kernel`) as tf.Tensor4D
      const [h, wd] = [x.shape[1] * 2, x.shape[2] * 2]
      const y =
        w.shape[0] === 3
          ? tf.conv2d(tf.image.resizeNearestNeighbor(x, [h, wd]), tf.transpose(w, [0, 1, 3, 2]) as tf.Tensor4D, 1, 'same')
          : tf.conv2dTranspose(x, w, [x.shape[0], h, wd, w.shape[2]], 2, 'same')
      return tf.add(y, v(`g/${name}/bias`)) as tf.Tensor4D
    }
    let x = tf.reshape(tf.add(tf.matMul(z, v('g/dense/kernel') as tf.Tensor2D), v('g/dense/bias')), [z.shape[0], 4, 4, ch[0]!]) as tf.Tensor4D
    x = tf.relu(norm(x, 0))
    for (let i = 1; i < ch.length; i++) x = tf.relu(norm(up(x, `up${i}`), i))
    return tf.tanh(up(x, 'rgb'))
  })
}

describe('dcgan with upsample + conv', () => {
  it('has 3×3 up-step kernels and costs what the transposed-conv generator costs', () => {
    const family = familyFor('dcgan')
    const nearest = family.generatorParams(family.spec(config()))
    const transposed = family.generatorParams(family.spec(config({ gUpsample: 'transposed' })))
    expect(nearest.find((p) => p.name === 'g/up1/kernel')!.shape).toEqual([3, 3, 16, 32])
    expect(nearest.find((p) => p.name === 'g/rgb/kernel')!.shape).toEqual([3, 3, 3, 8])
    expect(transposed.find((p) => p.name === 'g/rgb/kernel')!.shape).toEqual([4, 4, 3, 8])
    const rgbOnly = family.generatorParams(family.spec(config({ gUpsample: 'nearest-rgb' })))
    expect(rgbOnly.find((p) => p.name === 'g/up1/kernel')!.shape).toEqual([4, 4, 16, 32])
    expect(rgbOnly.find((p) => p.name === 'g/rgb/kernel')!.shape).toEqual([3, 3, 3, 8])
    expect(familyCost(config())).toEqual(familyCost(config({ gUpsample: 'transposed' })))
  })

  it('a saved run without the setting keeps transposed convolutions', () => {
    expect(RunConfigSchema.parse({ source: '/x' }).model.gUpsample).toBe('transposed')
  })

  it.each([
    [32, 'nearest'],
    [64, 'nearest'],
    [32, 'nearest-rgb']
  ] as const)('equals nearest ×2 upsampling then a 3×3 convolution (%i px, %s)', async (resolution, gUpsample) => {
    const gan = new Gan(ganOptionsFromConfig(config({ gUpsample }, resolution)))
    // Larger than the 0.02 init so every layer's contribution shows in the output.
    const values = new Map<string, tf.Tensor>()
    for (const slot of gan.g.layout.slots) values.set(slot.name, tf.randomNormal(slot.shape, 0, slot.name.endsWith('gamma') ? 1 : 0.3, 'float32', slot.offset + 1))
    const flat = await Promise.all(gan.g.layout.slots.map((s) => values.get(s.name)!.data()))
    const state = await gan.g.read()
    gan.g.layout.slots.forEach((s, i) => {
      state.values.set(flat[i] as Float32Array, s.offset)
      state.ema!.set(flat[i] as Float32Array, s.offset)
    })
    gan.g.write(state)
    const z = tf.randomNormal([3, 16], 0, 1, 'float32', 5) as tf.Tensor2D
    const got = gan.generate(z)
    const want = reference(gan.spec as DcganSpec, values, z)
    expect(got.shape).toEqual([3, resolution, resolution, 3])
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!)
    const spread = tf.tidy(() => tf.moments(want).variance.dataSync()[0]!)
    expect(spread).toBeGreaterThan(0.01)
    expect(diff).toBeLessThan(1e-4)
    tf.dispose([got, want, z, ...values.values()])
    gan.dispose()
  })

  it('trains every generator parameter without leaking tensors', async () => {
    const gan = new Gan(ganOptionsFromConfig(config({ mbstd: true, dNorm: 'batch' })))
    const real = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 3), 2), 1)) as tf.Tensor4D
    const before = (await gan.g.read()).values.slice()
    const step = async (): Promise<void> => {
      const s = gan.trainStep(real)
      await s.gLoss.data()
      tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? []])
    }
    await step()
    const count = tf.memory().numTensors
    for (let i = 0; i < 3; i++) await step()
    expect(tf.memory().numTensors).toBe(count)
    const after = (await gan.g.read()).values
    for (const slot of gan.g.layout.slots) {
      const moved = after.subarray(slot.offset, slot.offset + slot.length).some((x, i) => x !== before[slot.offset + i])
      expect(moved, slot.name).toBe(true)
    }
    real.dispose()
    gan.dispose()
  })
})
