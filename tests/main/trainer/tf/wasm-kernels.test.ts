import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { prepareWasm } from '../../../../src/main/trainer/tf/wasm'
import { WASM_GRADIENT_KERNELS } from '../../../../src/main/trainer/tf/wasm-kernels'
import { uniformFrom } from '../../../../src/main/trainer/model/rng'

/**
 * The gradient kernels we add to the wasm backend, checked against tfjs' reference `cpu` kernels
 * on random shapes, strides, paddings and batch sizes — then a small conv net trained on wasm.
 */

type Pad = 'same' | 'valid' | number[][]

function randomArray(rand: () => number, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rand() * 2 - 1
  return out
}

/** Runs `fn` on a backend with fresh copies of `inputs`; returns the outputs' values. */
async function onBackend(
  backend: 'cpu' | 'wasm',
  inputs: { values: Float32Array; shape: number[] }[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[]
): Promise<{ values: Float32Array; shape: number[] }[]> {
  await tf.setBackend(backend)
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape))
  const outs = fn(...xs)
  const result = await Promise.all(outs.map(async (o) => ({ values: (await o.data()) as Float32Array, shape: o.shape })))
  tf.dispose([...xs, ...outs])
  return result
}

/** max |a−b| / (1 + max |b|): a scale-aware error that stays meaningful for large sums. */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / (1 + scale)
}

async function expectSameOnBothBackends(
  inputs: { values: Float32Array; shape: number[] }[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
  label: string
): Promise<void> {
  const ref = await onBackend('cpu', inputs, fn)
  const got = await onBackend('wasm', inputs, fn)
  expect(got.length).toBe(ref.length)
  got.forEach((g, i) => {
    expect(g.shape, `${label}: output ${i} shape`).toEqual(ref[i]!.shape)
    const err = relError(g.values, ref[i]!.values)
    expect(err, `${label}: output ${i} relative error ${err}`).toBeLessThan(1e-5)
  })
}

interface ConvCase {
  n: number
  h: number
  w: number
  cin: number
  cout: number
  k: [number, number]
  stride: [number, number]
  pad: Pad
}

/** Output size of a forward conv (for making dy); mirrors tf's shape rules. */
function outSize(c: ConvCase): [number, number] {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.cin], [c.k[0], c.k[1], c.cin, c.cout], c.stride, 1, c.pad as 'same')
  return [info.outHeight, info.outWidth]
}

function randomCases(seed: number, count: number): ConvCase[] {
  const rand = uniformFrom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const cases: ConvCase[] = []
  while (cases.length < count) {
    const k: [number, number] = [pick([1, 2, 3, 4, 5]), pick([1, 3, 4])]
    const stride: [number, number] = [pick([1, 2]), pick([1, 2])]
    const h = 3 + Math.floor(rand() * 10)
    const w = 3 + Math.floor(rand() * 10)
    let pad: Pad
    const p = rand()
    if (p < 0.4) pad = 'same'
    else if (p < 0.8) pad = 'valid'
    else {
      const r = () => Math.floor(rand() * Math.min(k[0], k[1]))
      pad = [[0, 0], [r(), r()], [r(), r()], [0, 0]]
    }
    const c: ConvCase = { n: pick([1, 2, 3, 5, 8]), h, w, cin: pick([1, 3, 4, 7]), cout: pick([1, 2, 5, 8]), k, stride, pad }
    const [oh, ow] = outSize(c)
    if (oh < 1 || ow < 1) continue
    cases.push(c)
  }
  return cases
}

const describeCase = (c: ConvCase) =>
  `x=[${c.n},${c.h},${c.w},${c.cin}] k=${c.k.join('x')} cout=${c.cout} stride=${c.stride.join(',')} pad=${JSON.stringify(c.pad)}`

beforeAll(async () => {
  await prepareWasm()
  expect(await tf.setBackend('wasm')).toBe(true)
})

describe('wasm gradient kernels', () => {
  it('fills in the kernels the wasm backend lacks', () => {
    for (const name of WASM_GRADIENT_KERNELS) expect(tf.getKernel(name, 'wasm'), name).toBeDefined()
    expect(WASM_GRADIENT_KERNELS).toContain('Conv2DBackpropFilter')
  })

  // DCGAN's real shapes first (k4 s2 'same', batch 32), then random ones.
  const dcgan: ConvCase[] = [
    { n: 32, h: 32, w: 32, cin: 3, cout: 16, k: [4, 4], stride: [2, 2], pad: 'same' },
    { n: 32, h: 8, w: 8, cin: 32, cout: 24, k: [4, 4], stride: [2, 2], pad: 'same' }
  ]
  const cases = [...dcgan, ...randomCases(20240611, 28)]

  it.each(cases.map((c) => [describeCase(c), c] as const))('Conv2DBackpropFilter matches cpu: %s', async (_label, c) => {
    const rand = uniformFrom(c.n * 1000 + c.h * 31 + c.cin)
    const [oh, ow] = outSize(c)
    const x = { values: randomArray(rand, c.n * c.h * c.w * c.cin), shape: [c.n, c.h, c.w, c.cin] }
    const dy = { values: randomArray(rand, c.n * oh * ow * c.cout), shape: [c.n, oh, ow, c.cout] }
    await expectSameOnBothBackends(
      [x, dy],
      (xt, dyt) => [
        tf.engine().runKernel('Conv2DBackpropFilter', { x: xt!, dy: dyt! }, {
          strides: c.stride,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: [c.k[0], c.k[1], c.cin, c.cout]
        }) as tf.Tensor
      ],
      describeCase(c)
    )
  })

  // tfjs-backend-wasm's own 'same' padding is wrong for some of these (see wasm-kernels.ts).
  it.each(cases.map((c) => [describeCase(c), c] as const))('Conv2D forward matches cpu: %s', async (_label, c) => {
    const rand = uniformFrom(c.n * 5 + c.h * 3 + c.cout)
    const x = { values: randomArray(rand, c.n * c.h * c.w * c.cin), shape: [c.n, c.h, c.w, c.cin] }
    const f = { values: randomArray(rand, c.k[0] * c.k[1] * c.cin * c.cout), shape: [c.k[0], c.k[1], c.cin, c.cout] }
    await expectSameOnBothBackends([x, f], (xt, ft) => [tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad as 'same')], describeCase(c))
  })

  it.each(cases.map((c) => [describeCase(c), c] as const))('Conv2DBackpropInput (phased XNNPACK) matches cpu: %s', async (_label, c) => {
    const rand = uniformFrom(c.n * 77 + c.w * 13 + c.cout)
    const [oh, ow] = outSize(c)
    const dy = { values: randomArray(rand, c.n * oh * ow * c.cout), shape: [c.n, oh, ow, c.cout] }
    const f = { values: randomArray(rand, c.k[0] * c.k[1] * c.cin * c.cout), shape: [c.k[0], c.k[1], c.cin, c.cout] }
    await expectSameOnBothBackends(
      [dy, f],
      (dyt, ft) => [
        tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt!, filter: ft! }, {
          strides: c.stride,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: [c.n, c.h, c.w, c.cin]
        }) as tf.Tensor
      ],
      describeCase(c)
    )
  })

  it.each(cases.slice(0, 12).map((c) => [describeCase(c), c] as const))(
    'conv2d gradients (dx, dW) through tf.grads match cpu: %s',
    async (_label, c) => {
      const rand = uniformFrom(c.w * 7 + c.cout)
      const x = { values: randomArray(rand, c.n * c.h * c.w * c.cin), shape: [c.n, c.h, c.w, c.cin] }
      const f = { values: randomArray(rand, c.k[0] * c.k[1] * c.cin * c.cout), shape: [c.k[0], c.k[1], c.cin, c.cout] }
      await expectSameOnBothBackends(
        [x, f],
        (xt, ft) => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as 'same').square().sum())
          return g([xt!, ft!])
        },
        describeCase(c)
      )
    }
  )

  it.each([
    [1, 8, 8, 4, 2, 2],
    [3, 9, 7, 3, 1, 2],
    [32, 16, 16, 16, 2, 2],
    [2, 5, 6, 3, 2, 1]
  ])('conv2dTranspose forward and gradients match cpu (n=%i, %ix%i, cin=%i, cout=%i, stride=%i)', async (n, h, w, cin, cout, s) => {
    const rand = uniformFrom(n + h + w + cin + cout + s)
    const outShape: [number, number, number, number] = [n, h * s, w * s, cout]
    const x = { values: randomArray(rand, n * h * w * cin), shape: [n, h, w, cin] }
    // conv2dTranspose filters are [k, k, outChannels, inChannels]
    const f = { values: randomArray(rand, 4 * 4 * cout * cin), shape: [4, 4, cout, cin] }
    await expectSameOnBothBackends(
      [x, f],
      (xt, ft) => {
        const fwd = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, outShape, s, 'same')
        const y = fwd(xt!, ft!)
        return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => fwd(a, b).square().sum())([xt!, ft!])]
      },
      `conv2dTranspose ${n}x${h}x${w}x${cin}→${cout}`
    )
  })

  it.each([
    [2, 7, 7, 3, 1, 1, 'same'],
    [3, 8, 6, 4, 2, 2, 'same'],
    [1, 9, 9, 2, 3, 2, 'valid'],
    [4, 6, 7, 5, 1, 2, 'valid'],
    [2, 10, 10, 8, 2, 1, 'same']
  ] as const)(
    'depthwise conv gradients match cpu (n=%i, %ix%i, c=%i, multiplier=%i, stride=%i, %s)',
    async (n, h, w, c, mult, s, pad) => {
      const rand = uniformFrom(n * h + w * c + mult)
      const x = { values: randomArray(rand, n * h * w * c), shape: [n, h, w, c] }
      const f = { values: randomArray(rand, 3 * 3 * c * mult), shape: [3, 3, c, mult] }
      await expectSameOnBothBackends(
        [x, f],
        (xt, ft) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad).square().sum())([xt!, ft!]),
        `depthwise ${n}x${h}x${w}x${c} m=${mult} s=${s} ${pad}`
      )
    }
  )

  it.each([
    [[32, 128], [32, 256], true, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 6, 4], [2, 6, 3], true, false],
    [[2, 4, 6], [1, 6, 3], false, false]
  ] as const)('BatchMatMul %j × %j (transposeA=%s, transposeB=%s) matches cpu', async (aShape, bShape, ta, tb) => {
    const rand = uniformFrom(aShape.length * 10 + bShape[0])
    const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1)
    await expectSameOnBothBackends(
      [
        { values: randomArray(rand, size(aShape)), shape: [...aShape] },
        { values: randomArray(rand, size(bShape)), shape: [...bShape] }
      ],
      (a, b) => [tf.matMul(a!, b!, ta, tb)],
      `matMul ${aShape} ${bShape}`
    )
  })

  it('LeakyRelu, Relu, Tanh, moments and sigmoid cross-entropy gradients match cpu', async () => {
    const rand = uniformFrom(7)
    const x = { values: randomArray(rand, 4 * 5 * 5 * 6), shape: [4, 5, 5, 6] }
    await expectSameOnBothBackends(
      [x],
      (xt) => [
        tf.grad((a: tf.Tensor) => {
          const { mean, variance } = tf.moments(a, -1, true)
          const normed = tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5)))
          const h = tf.add(tf.leakyRelu(normed, 0.2), tf.tanh(tf.relu(a)))
          const logits = tf.sum(h, [1, 2, 3])
          return tf.losses.sigmoidCrossEntropy(tf.onesLike(logits), logits)
        })(xt!)
      ],
      'activations'
    )
  })

  it('a small conv GAN-style net trains under optimizer.minimize on wasm without leaking', async () => {
    await tf.setBackend('wasm')
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const rand = uniformFrom(42)
    const v = (shape: number[], scale = 0.2) => tf.variable(tf.tensor(randomArray(rand, shape.reduce((a, b) => a * b, 1)), shape).mul(scale))
    const w1 = v([4, 4, 3, 8])
    const w2 = v([4, 4, 8, 16])
    const wT = v([4, 4, 3, 8]) // a conv-transpose back to the image
    const wOut = v([4 * 4 * 16, 1])
    const images = tf.tensor(randomArray(rand, 8 * 16 * 16 * 3), [8, 16, 16, 3]).tanh() as tf.Tensor4D
    const labels = tf.tensor(Array.from({ length: 8 }, (_, i) => i % 2), [8, 1])
    const optimizer = tf.train.adam(0.01)
    const loss = () =>
      tf.tidy(() => {
        const h1 = tf.leakyRelu(tf.conv2d(images, w1 as tf.Tensor4D, 2, 'same'), 0.2) // 8×8×8
        const back = tf.tanh(tf.conv2dTranspose(h1, wT as tf.Tensor4D, [8, 16, 16, 3], 2, 'same'))
        const h2 = tf.leakyRelu(tf.conv2d(tf.conv2d(back, w1 as tf.Tensor4D, 2, 'same'), w2 as tf.Tensor4D, 2, 'same'), 0.2) // 4×4×16
        const logits = tf.matMul(tf.reshape(h2, [8, -1]), wOut as tf.Tensor2D)
        return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar
      })
    const losses: number[] = []
    let tensorsAfterFirst = -1
    let dataIdsAfterFirst = -1
    for (let step = 0; step < 40; step++) {
      const cost = optimizer.minimize(loss, true)!
      losses.push((await cost.data())[0]!)
      cost.dispose()
      if (step === 1) {
        tensorsAfterFirst = tf.memory().numTensors
        dataIdsAfterFirst = backend.numDataIds()
      }
    }
    expect(tf.getBackend()).toBe('wasm')
    expect(losses.every(Number.isFinite)).toBe(true)
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3
    const last = losses.slice(-3).reduce((a, b) => a + b) / 3
    expect(last, `loss went ${first} → ${last}`).toBeLessThan(first * 0.5)
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst)
    // Temporaries inside our kernels are not engine tensors: count the backend's buffers too.
    expect(backend.numDataIds()).toBe(dataIdsAfterFirst)
    tf.dispose([w1, w2, wT, wOut, images, labels])
    optimizer.dispose()
  })
})
