import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { RunConfigSchema, type RunConfigInput } from '@shared/config'
import { Gan, ganOptionsFromConfig } from '../../../../src/main/trainer/model/gan'
import { uniformFrom } from '../../../../src/main/trainer/model/rng'
import { ADDON_RELATIVE, nativeKernels, nativeStatus, reloadNativeForTests, setNativeEnabled, type NativeKernels } from '../../../../src/main/trainer/tf/native'
import { describeWasm, prepareWasm } from '../../../../src/main/trainer/tf/wasm'

/**
 * The native CPU kernels (native/, wired in by tf/wasm-kernels.ts), checked against tfjs'
 * reference `cpu` kernels on random shapes and on the shapes the model families really use,
 * with the AVX2/FMA micro-kernel and with the portable one; then training with them on and off,
 * determinism, worker threads, and the fallback when the addon is missing.
 *
 * The install step builds the addon (`npm run build:native` by hand); these tests need it.
 */

const root = join(__dirname, '..', '..', '..', '..')
type Data = { values: Float32Array; shape: number[] }
type KernelCall = { name: string; shapes: Record<string, number[]>; attrs: Record<string, unknown> }

let native: NativeKernels

beforeAll(async () => {
  await prepareWasm()
  expect(await tf.setBackend('wasm')).toBe(true)
  const status = nativeStatus()
  if (!status.isa) throw new Error(`the native kernels are not loaded (${status.reason}): run \`npm run build:native\``)
  native = nativeKernels()!
})

afterEach(() => {
  vi.restoreAllMocks()
  setNativeEnabled(true)
  native.forcePortable(false)
})

function randomArray(rand: () => number, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rand() * 2 - 1
  return out
}

/** max |a−b| / (1 + max |b|). */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / (1 + scale)
}

/** Runs one kernel on `backend` with fresh copies of the inputs; returns its output. */
async function runOn(backend: 'cpu' | 'wasm', call: KernelCall, inputs: Record<string, Data>): Promise<Data> {
  await tf.setBackend(backend)
  const ts = Object.fromEntries(Object.entries(inputs).map(([k, d]) => [k, tf.tensor(d.values, d.shape)]))
  const out = tf.engine().runKernel(call.name, ts, call.attrs as tf.NamedAttrMap) as tf.Tensor
  const result = { values: (await out.data()) as Float32Array, shape: out.shape }
  tf.dispose([...Object.values(ts), out])
  await tf.setBackend('wasm')
  return result
}

function inputsFor(call: KernelCall, seed: number): Record<string, Data> {
  const rand = uniformFrom(seed)
  return Object.fromEntries(Object.entries(call.shapes).map(([k, shape]) => [k, { values: randomArray(rand, tf.util.sizeFromShape(shape)), shape }]))
}

/**
 * Asserts the native kernel ran (spied) and matches the reference within 1e-5 relative: tfjs' cpu
 * kernels, or (large shapes, where those take minutes) the wasm backend's own XNNPACK kernels,
 * which wasm-kernels.test.ts checks against cpu.
 */
async function expectNativeMatches(call: KernelCall, method: keyof NativeKernels, seed: number, reference: 'cpu' | 'xnnpack' = 'cpu'): Promise<void> {
  const inputs = inputsFor(call, seed)
  let ref: Data
  if (reference === 'cpu') ref = await runOn('cpu', call, inputs)
  else {
    setNativeEnabled(false)
    try {
      ref = await runOn('wasm', call, inputs)
    } finally {
      setNativeEnabled(true)
    }
  }
  const spy = vi.spyOn(native, method)
  const got = await runOn('wasm', call, inputs)
  expect(spy, `${call.name} should run natively`).toHaveBeenCalled()
  spy.mockRestore()
  expect(got.shape).toEqual(ref.shape)
  const err = relError(got.values, ref.values)
  expect(err, `${call.name} ${JSON.stringify(call.shapes)} ${JSON.stringify(call.attrs)}: relative error ${err}`).toBeLessThan(1e-5)
}

// ── Shapes ─────────────────────────────────────────────────────────────────────────────────

type Pad = 'same' | 'valid' | number[][]
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

function outSize(c: ConvCase): [number, number] {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.cin], [c.k[0], c.k[1], c.cin, c.cout], c.stride, 1, c.pad as 'same')
  return [info.outHeight, info.outWidth]
}

/** Odd sizes, strides 1 and 2, same/valid/explicit padding, channel counts on and off the tile sizes. */
function randomCases(seed: number, count: number): ConvCase[] {
  const rand = uniformFrom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const cases: ConvCase[] = []
  while (cases.length < count) {
    const k: [number, number] = [pick([1, 2, 3, 4, 5]), pick([1, 3, 4])]
    const stride: [number, number] = [pick([1, 2]), pick([1, 2])]
    const h = 1 + Math.floor(rand() * 13)
    const w = 1 + Math.floor(rand() * 13)
    const p = rand()
    const r = () => Math.floor(rand() * Math.min(k[0], k[1]))
    const pad: Pad = p < 0.4 ? 'same' : p < 0.8 ? 'valid' : [[0, 0], [r(), r()], [r(), r()], [0, 0]]
    const c: ConvCase = { n: pick([1, 2, 3, 5]), h, w, cin: pick([1, 3, 7, 16, 33]), cout: pick([1, 5, 16, 17, 40]), k, stride, pad }
    const [oh, ow] = outSize(c)
    if (oh >= 1 && ow >= 1) cases.push(c)
  }
  return cases
}

const convCalls = (c: ConvCase) => {
  const [oh, ow] = outSize(c)
  const filterShape = [c.k[0], c.k[1], c.cin, c.cout]
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined }
  return {
    forward: { name: 'Conv2D', shapes: { x: [c.n, c.h, c.w, c.cin], filter: filterShape }, attrs },
    input: { name: 'Conv2DBackpropInput', shapes: { dy: [c.n, oh, ow, c.cout], filter: filterShape }, attrs: { ...attrs, inputShape: [c.n, c.h, c.w, c.cin] } },
    filter: { name: 'Conv2DBackpropFilter', shapes: { x: [c.n, c.h, c.w, c.cin], dy: [c.n, oh, ow, c.cout] }, attrs: { ...attrs, filterShape } }
  }
}

const label = (c: ConvCase) => `x=[${c.n},${c.h},${c.w},${c.cin}] k=${c.k.join('x')} cout=${c.cout} stride=${c.stride.join(',')} pad=${JSON.stringify(c.pad)}`

/** Every convolution and matmul one training step of `config` runs, recorded at the engine. */
async function recordStep(config: RunConfigInput): Promise<KernelCall[]> {
  const batch = 4
  const wanted = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul'])
  const calls = new Map<string, KernelCall>()
  const engine = tf.engine()
  const original = engine.runKernel.bind(engine)
  const spy = vi.spyOn(engine, 'runKernel').mockImplementation((name, inputs, attrs) => {
    if (wanted.has(name)) {
      const present = Object.entries(inputs).filter(([, t]) => t !== undefined && t !== null)
      const shapes = Object.fromEntries(present.map(([k, t]) => [k, [...(t as tf.Tensor).shape]]))
      const call = { name, shapes, attrs: { ...attrs } as Record<string, unknown> }
      calls.set(JSON.stringify(call), call)
    }
    return original(name, inputs, attrs)
  })
  try {
    const gan = new Gan(ganOptionsFromConfig(RunConfigSchema.parse(config)))
    const r = RunConfigSchema.parse(config).preprocess.resolution
    const real = tf.zeros([batch, r, r, 3]) as tf.Tensor4D
    const s = gan.trainStep(real)
    tf.dispose([real, s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? []])
    gan.dispose()
  } finally {
    spy.mockRestore()
  }
  return [...calls.values()]
}

const METHOD: Record<string, keyof NativeKernels> = {
  Conv2D: 'conv2d',
  FusedConv2D: 'conv2d',
  Conv2DBackpropInput: 'conv2dBackpropInput',
  Conv2DBackpropFilter: 'conv2dBackpropFilter',
  BatchMatMul: 'matmul'
}

// ── Tests ──────────────────────────────────────────────────────────────────────────────────

describe('native kernels: loading', () => {
  it('are loaded here and named in the backend description', () => {
    expect(['AVX2/FMA', 'portable']).toContain(native.isa())
    expect(describeWasm()).toMatch(/^wasm \(.*\) \+ native kernels \((AVX2\/FMA|portable)\)$/)
  })

  it('load in worker threads, each with its own scratch memory, and compute on shared memory there', async () => {
    const addon = join(root, ADDON_RELATIVE)
    // A 40×33 · 33×50 product in each of two workers at once, on a SharedArrayBuffer (as the threaded wasm heap is).
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const k = require(workerData.addon)
      const [m, kk, n] = [40, 33, 50]
      const heap = new Float32Array(workerData.sab)
      const a = heap.subarray(0, m * kk), b = heap.subarray(m * kk, m * kk + kk * n)
      const c = new Float32Array(m * n)
      k.matmul(a, b, c, new Int32Array([1, m, n, kk, 0, 0, 0, 0]))
      parentPort.postMessage({ isa: k.isa(), c })`
    const m = 40
    const kk = 33
    const n = 50
    const sab = new SharedArrayBuffer((m * kk + kk * n) * 4)
    const heap = new Float32Array(sab)
    heap.set(randomArray(uniformFrom(5), heap.length))
    const expected = new Float32Array(m * n)
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < kk; p++) expected[i * n + j]! += heap[i * kk + p]! * heap[m * kk + p * n + j]!
    const results = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ isa: string; c: Float32Array }>((resolve, reject) => {
            const worker = new Worker(code, { eval: true, workerData: { addon, sab } })
            worker.once('message', (msg: { isa: string; c: Float32Array }) => void worker.terminate().then(() => resolve(msg)))
            worker.once('error', reject)
          })
      )
    )
    for (const r of results) {
      expect(r.isa).toBe(native.isa())
      expect(relError(r.c, expected)).toBeLessThan(1e-5)
    }
  })

  it('throw, rather than write past a tensor, when sizes do not match the geometry', () => {
    const geometry = new Int32Array([1, 4, 4, 2, 3, 3, 5, 4, 4, 1, 1, 1, 1])
    expect(() => native.conv2d(new Float32Array(32), new Float32Array(90), new Float32Array(79), geometry)).toThrow(/y must be/)
    expect(() => native.conv2d(new Float32Array(32), new Float32Array(90), new Float32Array(80), geometry.subarray(0, 12))).toThrow(/geometry/)
    expect(() => native.matmul(new Float32Array(6), new Float32Array(6), new Float32Array(3), new Int32Array([1, 2, 2, 3, 0, 0, 0, 0]))).toThrow(/c must be/)
  })
})

describe.each([
  ['the default micro-kernel', false],
  ['the portable micro-kernel', true]
] as const)('native kernels with %s match cpu', (_name, portable) => {
  // The top-level afterEach resets forcePortable: every test here sets it first.
  const withIsa = async (f: () => Promise<void>) => {
    native.forcePortable(portable)
    await f()
  }

  const cases = randomCases(portable ? 77 : 20250601, 24)
  it.each(cases.map((c) => [label(c), c] as const))('Conv2D, its input and filter gradients: %s', (_l, c) =>
    withIsa(async () => {
      const calls = convCalls(c)
      await expectNativeMatches(calls.forward, 'conv2d', 1)
      await expectNativeMatches(calls.input, 'conv2dBackpropInput', 2)
      await expectNativeMatches(calls.filter, 'conv2dBackpropFilter', 3)
    })
  )

  it.each(['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu'])('FusedConv2D with a bias and %s', (activation) =>
    withIsa(async () => {
      const c: ConvCase = { n: 3, h: 9, w: 7, cin: 5, cout: 19, k: [3, 3], stride: [2, 1], pad: 'same' }
      const { forward } = convCalls(c)
      await expectNativeMatches(
        { name: 'FusedConv2D', shapes: { ...forward.shapes, bias: [19] }, attrs: { ...forward.attrs, activation, leakyreluAlpha: 0.1 } },
        'conv2d',
        4
      )
    })
  )

  it.each([
    [[7, 5], [5, 9], false, false],
    [[5, 7], [5, 9], true, false],
    [[7, 5], [9, 5], false, true],
    [[5, 7], [9, 5], true, true],
    [[3, 7, 20], [3, 20, 17], false, false],
    [[3, 20, 7], [1, 17, 20], true, true],
    [[1, 33, 130], [2, 130, 19], false, false]
  ])('BatchMatMul %j · %j (transposeA %s, transposeB %s)', (a, b, transposeA, transposeB) =>
    withIsa(() => expectNativeMatches({ name: 'BatchMatMul', shapes: { a, b }, attrs: { transposeA, transposeB } }, 'matmul', 5))
  )
})

describe("native kernels on the families' real layer shapes (default widths, one recorded training step, against XNNPACK)", () => {
  it.each([
    ['dcgan', 32],
    ['dcgan', 64],
    ['lite', 32],
    ['lite', 64]
  ] as const)('%s at %i px: every convolution and matmul matches', async (arch, resolution) => {
    const calls = await recordStep({ source: '/x', preprocess: { resolution }, model: { arch } })
    expect(calls.length).toBeGreaterThan(10)
    const names = new Set(calls.map((c) => c.name))
    for (const kernel of ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul']) expect(names).toContain(kernel)
    let seed = 10
    for (const call of calls) await expectNativeMatches(call, METHOD[call.name]!, seed++, 'xnnpack')
  }, 120_000)
})

describe('training with the native kernels', () => {
  const config = (arch: 'dcgan' | 'lite'): RunConfigInput => ({
    source: '/x',
    seed: 7,
    model: { arch, gChannels: 8, dChannels: 8, latentDim: 16 },
    augment: { translation: true }
  })

  /** Losses of `steps` training steps from a fixed seed and batch; tensors counted after the first. */
  function train(arch: 'dcgan' | 'lite', steps: number): { losses: number[][]; leaked: number } {
    const gan = new Gan(ganOptionsFromConfig(RunConfigSchema.parse(config(arch))))
    const real = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 3), 2), 1)) as tf.Tensor4D
    const losses: number[][] = []
    let before = 0
    for (let i = 0; i < steps; i++) {
      const s = gan.trainStep(real)
      losses.push([s.gLoss, s.dLoss, s.dReal, s.dFake].map((t) => t.dataSync()[0]!))
      tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? []])
      if (i === 0) before = tf.memory().numTensors
    }
    const leaked = tf.memory().numTensors - before
    real.dispose()
    gan.dispose()
    return { losses, leaked }
  }

  it.each(['dcgan', 'lite'] as const)('%s: losses with native kernels on and off agree, nothing leaks, and a rerun is bit-identical', (arch) => {
    const on = train(arch, 4)
    const again = train(arch, 4)
    setNativeEnabled(false)
    const off = train(arch, 4)
    setNativeEnabled(true)
    expect(on.leaked).toBe(0)
    expect(off.leaked).toBe(0)
    expect(again.losses).toEqual(on.losses) // deterministic
    on.losses.forEach((step, i) => step.forEach((v, j) => expect(Math.abs(v - off.losses[i]![j]!), `step ${i} value ${j}`).toBeLessThan(1e-3 * (1 + Math.abs(v)))))
  })
})

describe('without the addon', () => {
  afterEach(() => {
    reloadNativeForTests(null)
    delete process.env.GAN_STUDIO_NATIVE
  })

  it('falls back to the wasm kernels, says why once, and gives the same results', async () => {
    const missing = join(root, 'native', 'build', 'Release', 'missing.node')
    reloadNativeForTests(missing)
    expect(nativeKernels()).toBeNull()
    const c: ConvCase = { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: [4, 4], stride: [2, 2], pad: 'same' }
    const calls = convCalls(c)
    for (const call of [calls.forward, calls.input, calls.filter]) {
      const inputs = inputsFor(call, 9)
      const [ref, got] = [await runOn('cpu', call, inputs), await runOn('wasm', call, inputs)]
      expect(relError(got.values, ref.values)).toBeLessThan(1e-5)
    }
    const status = nativeStatus()
    expect(status).toEqual({ isa: null, reason: `not built (no ${missing}; see the install notes)`, attempts: 1 })
    expect(describeWasm()).toMatch(/^wasm \(.*\), native kernels off: not built \(no .*missing\.node; see the install notes\)$/)
  })

  it('is off with GAN_STUDIO_NATIVE=0', () => {
    process.env.GAN_STUDIO_NATIVE = '0'
    reloadNativeForTests(null)
    expect(nativeKernels()).toBeNull()
    expect(describeWasm()).toMatch(/native kernels off: switched off \(GAN_STUDIO_NATIVE=0\)$/)
  })
})
