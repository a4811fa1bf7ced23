import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as ops from '../../../../src/main/trainer/nn/ops'
import { Tape } from '../../../../src/main/trainer/nn/tape'
import { useWasm } from '../../../helpers/backend'

/**
 * Every op's hand-written backward against tfjs autograd of the same maths written with plain tf
 * ops, on the wasm backend (fused kernels) and on the cpu backend (same kernels, JS arrays), with
 * and without per-sample weights on the parameter gradients.
 */

type P = Record<string, tf.Tensor>
interface Case {
  name: string
  /** Mixes samples: per-sample weights on parameter gradients do not apply (never used so). */
  coupled?: boolean
  x: number[]
  params: Record<string, number[]>
  /** Engine version. */
  run(tape: Tape | null, x: tf.Tensor, p: (n: string) => ops.Param): tf.Tensor
  /** Reference with plain tf ops (differentiable by tfjs). */
  ref(x: tf.Tensor, p: P): tf.Tensor
}

const rand = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed)

const cases: Case[] = [
  {
    name: 'dense + leaky',
    x: [3, 5],
    params: { w: [5, 4], b: [4] },
    run: (t, x, p) => ops.dense(t, x as tf.Tensor2D, p('w'), p('b'), 'leakyrelu'),
    ref: (x, p) => tf.leakyRelu(tf.add(tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D), p.b!), 0.2)
  },
  {
    name: 'conv 4×4 stride 2 + leaky',
    x: [2, 8, 8, 3],
    params: { w: [4, 4, 3, 5], b: [5] },
    run: (t, x, p) => ops.conv2d(t, x as tf.Tensor4D, p('w'), p('b'), { stride: 2, pad: 1, act: 'leakyrelu' }),
    ref: (x, p) => tf.leakyRelu(tf.add(tf.conv2d(x as tf.Tensor4D, p.w as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]), p.b!), 0.2)
  },
  {
    name: 'conv 3×3 same + relu',
    x: [2, 6, 6, 4],
    params: { w: [3, 3, 4, 6], b: [6] },
    run: (t, x, p) => ops.conv2d(t, x as tf.Tensor4D, p('w'), p('b'), { act: 'relu' }),
    ref: (x, p) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, p.w as tf.Tensor4D, 1, 'same'), p.b!))
  },
  {
    name: 'conv 4×4 valid, no bias',
    x: [2, 4, 4, 3],
    params: { w: [4, 4, 3, 2] },
    run: (t, x, p) => ops.conv2d(t, x as tf.Tensor4D, p('w'), null, { pad: 'valid' }),
    ref: (x, p) => tf.conv2d(x as tf.Tensor4D, p.w as tf.Tensor4D, 1, 'valid')
  },
  {
    name: 'transposed conv 4×4 stride 2 + tanh',
    x: [2, 4, 4, 6],
    params: { w: [4, 4, 3, 6], b: [3] },
    run: (t, x, p) => ops.conv2dTranspose(t, x as tf.Tensor4D, p('w'), p('b'), { act: 'tanh' }),
    ref: (x, p) => tf.tanh(tf.add(tf.conv2dTranspose(x as tf.Tensor4D, p.w as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'), p.b!))
  },
  {
    name: 'channel norm',
    x: [2, 3, 3, 5],
    params: { g: [5], b: [5] },
    run: (t, x, p) => ops.channelNorm(t, x, p('g'), p('b')),
    ref: (x, p) => {
      const { mean, variance } = tf.moments(x, -1, true)
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, ops.NORM_EPSILON))), p.g!), p.b!)
    }
  },
  {
    name: 'glu',
    x: [2, 3, 3, 8],
    params: {},
    run: (t, x) => ops.glu(t, x as tf.Tensor4D),
    ref: (x) => {
      const [a, b] = tf.split(x, 2, 3)
      return tf.mul(a!, tf.sigmoid(b!))
    }
  },
  {
    name: 'upsample ×2 then avg pool',
    x: [2, 3, 4, 3],
    params: {},
    run: (t, x) => ops.avgPool2(t, ops.activation(t, ops.upsample2(t, x as tf.Tensor4D), 'tanh') as tf.Tensor4D),
    // Nearest ×2 written as tile + reshape: tfjs' cpu gradient of resizeNearestNeighbor is wrong for non-square maps.
    ref: (x) => {
      const wide = tf.reshape(tf.tile(tf.reshape(x, [6, 4, 1, 3]), [1, 1, 2, 1]), [2, 3, 1, 24])
      const up = tf.reshape(tf.tile(wide, [1, 1, 2, 1]), [2, 6, 8, 3])
      return tf.avgPool(tf.tanh(up) as tf.Tensor4D, 2, 2, 'valid')
    }
  },
  {
    name: 'skip-layer gate',
    x: [2, 4, 4, 3],
    params: { w: [2, 2, 3, 3] },
    run: (t, x, p) => {
      const g = ops.activation(t, ops.globalAvgPool(t, ops.conv2d(t, x as tf.Tensor4D, p('w'), null, { stride: 2, pad: 'valid' })), 'sigmoid') as tf.Tensor4D
      return ops.gate(t, x as tf.Tensor4D, g)
    },
    ref: (x, p) => tf.mul(x, tf.sigmoid(tf.mean(tf.conv2d(x as tf.Tensor4D, p.w as tf.Tensor4D, 2, 'valid'), [1, 2], true)))
  },
  {
    name: 'nearest ×2 then 3×3 conv (as one transposed conv) + leaky',
    x: [2, 3, 4, 5],
    params: { w: [3, 3, 6, 5], b: [6] },
    run: (t, x, p) => ops.upConv(t, x as tf.Tensor4D, p('w'), p('b'), { act: 'leakyrelu' }),
    ref: (x, p) => {
      const wide = tf.reshape(tf.tile(tf.reshape(x, [6, 4, 1, 5]), [1, 1, 2, 1]), [2, 3, 1, 40])
      const up = tf.reshape(tf.tile(wide, [1, 1, 2, 1]), [2, 6, 8, 5]) as tf.Tensor4D
      const w = tf.transpose(p.w!, [0, 1, 3, 2]) as tf.Tensor4D
      return tf.leakyRelu(tf.add(tf.conv2d(up, w, 1, 'same'), p.b!), 0.2)
    }
  },
  {
    name: 'minibatch standard deviation',
    x: [8, 3, 3, 4],
    params: {},
    run: (t, x) => ops.mbstd(t, x as tf.Tensor4D),
    ref: (x) => {
      const g = tf.reshape(x, [2, 4, 3, 3, 4])
      const s = tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(g, tf.mean(g, 1, true))), 1), 1e-8))
      const stat = tf.tile(tf.reshape(tf.tile(tf.reshape(tf.mean(s, [1, 2, 3]), [2, 1]), [1, 4]), [8, 1, 1, 1]), [1, 3, 3, 1])
      return tf.concat([x, stat], 3)
    }
  },
  {
    name: 'batch norm over groups of eight',
    coupled: true,
    x: [16, 2, 3, 5],
    params: { g: [5], b: [5] },
    run: (t, x, p) => ops.batchNorm(t, x, p('g'), p('b')),
    ref: (x, p) => {
      const g = tf.reshape(x, [2, 48, 5])
      const { mean, variance } = tf.moments(g, 1, true)
      return tf.reshape(tf.add(tf.mul(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, ops.NORM_EPSILON))), p.g!), p.b!), [16, 2, 3, 5])
    }
  },
  {
    name: 'residual add',
    x: [2, 4, 4, 3],
    params: { w: [3, 3, 3, 3] },
    run: (t, x, p) => ops.add(t, x, ops.conv2d(t, x as tf.Tensor4D, p('w'), null, { act: 'leakyrelu' }), 0.5),
    ref: (x, p) => tf.mul(tf.add(x, tf.leakyRelu(tf.conv2d(x as tf.Tensor4D, p.w as tf.Tensor4D, 1, 'same'), 0.2)), 0.5)
  }
]

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<{ diff: number; scale: number }> {
  expect(a.shape).toEqual(b.shape)
  const [x, y] = [await a.data(), await b.data()]
  let diff = 0
  let scale = 0
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!))
    scale = Math.max(scale, Math.abs(y[i]!))
  }
  return { diff, scale }
}

async function check(c: Case, weighted: boolean): Promise<void> {
  const x = rand(c.x, 1)
  const params: P = {}
  Object.entries(c.params).forEach(([n, s], i) => (params[n] = tf.mul(rand(s, 10 + i), 0.5)))
  const yRef = c.ref(x, params)
  const dy = rand(yRef.shape, 99)
  const w = tf.tensor1d(Array.from({ length: c.x[0]! }, (_, i) => (weighted ? 0.5 + i : 1)))
  const wb = tf.reshape(w, [c.x[0]!, ...c.x.slice(1).map(() => 1)].slice(0, yRef.shape.length))
  // Reference gradients: input unweighted, parameters weighted per sample.
  const dxRef = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(c.ref(xx, params), dy)))(x)
  const names = Object.keys(params)
  const pRef = names.length ? tf.grads((...vals: tf.Tensor[]) => tf.sum(tf.mul(tf.mul(c.ref(x, Object.fromEntries(names.map((n, i) => [n, vals[i]!]))), dy), wb)))(names.map((n) => params[n]!)) : []

  const tape = new Tape()
  tape.watch(x)
  const y = c.run(tape, x, (n) => ({ name: n, value: params[n]! }))
  const forward = await maxDiff(y, yRef)
  expect(forward.diff, `${c.name} forward`).toBeLessThan(1e-4 * Math.max(1, forward.scale))
  const grads = tape.backward([[y, dy]], { sampleWeights: weighted ? w : null })
  const dx = grads.get(x.id)
  expect(dx, `${c.name} dx`).toBeDefined()
  const gx = await maxDiff(dx!, dxRef)
  expect(gx.diff, `${c.name} dx`).toBeLessThan(1e-4 * Math.max(1, gx.scale))
  for (const [i, n] of names.entries()) {
    const g = tape.paramGrads.get(n)
    expect(g, `${c.name} d${n}`).toBeDefined()
    const d = await maxDiff(g!, pRef[i]!)
    expect(d.diff, `${c.name} d${n}`).toBeLessThan(1e-4 * Math.max(1, d.scale))
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`engine ops on ${backend}`, () => {
    beforeAll(async () => {
      await useWasm()
      await tf.setBackend(backend)
    })
    afterAll(async () => {
      await tf.setBackend('wasm')
    })
    for (const c of cases) {
      it(`${c.name}: gradients match autograd`, async () => {
        await check(c, false)
        if (!c.coupled) await check(c, true)
      })
    }
    it('skips parameter gradients that are not asked for, and input gradients nobody needs', () => {
      tf.tidy(() => {
        const x = rand([2, 4, 4, 3], 3)
        const w = { name: 'w', value: rand([3, 3, 3, 2], 4) }
        const tape = new Tape()
        const y = ops.conv2d(tape, x as tf.Tensor4D, w, null)
        const grads = tape.backward([[y, tf.onesLike(y)]], { params: () => false })
        expect(tape.paramGrads.size).toBe(0)
        expect(grads.get(x.id)).toBeUndefined()
      })
    })
  })
}
