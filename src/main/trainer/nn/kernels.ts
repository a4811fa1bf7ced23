import * as tf from '@tensorflow/tfjs'
import { nativeKernels, type NativeKernels } from '../tf/native'

/**
 * Element-wise kernels for the training engine, written once as loops over Float32Arrays and
 * registered as tfjs kernels on the two backends whose tensors live in CPU memory: `wasm` (views
 * on its heap, no copies) and `cpu`. tfjs-backend-wasm's own element-wise kernels are scalar
 * loops with generic broadcasting; these do one pass per fused operation instead of several.
 * Backends without a registration (webgpu, tensorflow) run the same maths as tf ops (`ops.ts`).
 *
 * Each kernel gets its input arrays, attributes and freshly allocated output arrays, and fills
 * the outputs; it never writes to its inputs.
 */

export type F32 = Float32Array

export interface KernelSpec<A> {
  name: string
  /** Output shapes from the input shapes and attributes. */
  outputs(inputShapes: number[][], attrs: A): number[][]
  run(inputs: F32[], outputs: F32[], shapes: number[][], attrs: A): void
  /**
   * The same on the native CPU kernels (tf/native.ts), used on `wasm` when they are loaded;
   * returns false to fall back to `run` (e.g. an activation the addon does not have).
   */
  native?(k: NativeKernels, inputs: F32[], outputs: F32[], shapes: number[][], attrs: A): boolean
}

type Info = tf.TensorInfo

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): Info
  typedArrayFromHeap(t: Info): F32
}
interface CpuLike {
  data: { get(dataId: object): { values: unknown } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: F32): Info
}

const FAST_BACKENDS = ['wasm', 'cpu'] as const

function registerFor<A>(spec: KernelSpec<A>): void {
  const kernelName = `GanStudio${spec.name}`
  if (!tf.getKernel(kernelName, 'wasm')) {
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const b = backend as unknown as WasmLike
        const ins = Object.values(inputs) as Info[]
        const shapes = ins.map((t) => t.shape)
        const outs = spec.outputs(shapes, attrs as unknown as A).map((s) => b.makeOutput(s, 'float32'))
        // Views are taken after the last allocation: growing the heap detaches earlier ones.
        const inArrays = ins.map((t) => b.typedArrayFromHeap(t))
        const outArrays = outs.map((t) => b.typedArrayFromHeap(t))
        const k = spec.native ? nativeKernels() : null
        if (!k || !spec.native!(k, inArrays, outArrays, shapes, attrs as unknown as A)) spec.run(inArrays, outArrays, shapes, attrs as unknown as A)
        return outs.length === 1 ? outs[0]! : outs
      }
    })
  }
  if (!tf.getKernel(kernelName, 'cpu')) {
    tf.registerKernel({
      kernelName,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const b = backend as unknown as CpuLike
        const ins = Object.values(inputs) as Info[]
        const shapes = ins.map((t) => t.shape)
        const outShapes = spec.outputs(shapes, attrs as unknown as A)
        const outArrays = outShapes.map((s) => new Float32Array(s.reduce((x, y) => x * y, 1)))
        spec.run(
          ins.map((t) => b.data.get(t.dataId).values as F32),
          outArrays,
          shapes,
          attrs as unknown as A
        )
        const outs = outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', outArrays[i]!))
        return outs.length === 1 ? outs[0]! : outs
      }
    })
  }
}

const registry = new Map<string, KernelSpec<never>>()

/** Registers a kernel (idempotent) and returns a caller that runs it, or null where unregistered. */
export function defineKernel<A extends object>(spec: KernelSpec<A>): (inputs: tf.Tensor[], attrs: A) => tf.Tensor[] | null {
  registry.set(spec.name, spec as unknown as KernelSpec<never>)
  const kernelName = `GanStudio${spec.name}`
  let registered = false
  return (inputs, attrs) => {
    if (!hasFastKernels()) return null
    if (!registered) {
      registerFor(spec)
      registered = true
    }
    const named: Record<string, tf.Tensor> = {}
    inputs.forEach((t, i) => (named[`x${i}`] = t))
    const out = tf.engine().runKernel(kernelName, named as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[]
    return Array.isArray(out) ? out : [out]
  }
}

let autograd = 0

/**
 * Runs `f` with every engine op built from plain tf ops, which tfjs' autograd can differentiate
 * (the R1 penalty needs a gradient of a gradient).
 */
export function withAutogradOps<T>(f: () => T): T {
  autograd++
  try {
    return f()
  } finally {
    autograd--
  }
}

export function autogradMode(): boolean {
  return autograd > 0
}

/** Whether the active backend keeps tensors in CPU memory, where the loops above apply. */
export function hasFastKernels(): boolean {
  if (autograd > 0) return false
  const name = tf.getBackend()
  return (FAST_BACKENDS as readonly string[]).includes(name)
}

/** Names of the kernels defined so far (for tests). */
export function definedKernels(): string[] {
  return [...registry.keys()]
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

// ── Activation gradients, from the activation's output y ────────────────────────────────────

export type Activation = 'linear' | 'relu' | 'leakyrelu' | 'tanh' | 'sigmoid'

/** The native element-wise kernels' activation codes (native/src/kernels.h, GS_EW_*). */
const NATIVE_EW_ACT: Record<Activation, number> = { linear: 0, relu: 1, leakyrelu: 2, tanh: 3, sigmoid: 4 }

/** dx for y = act(x), from dy and y (leaky ReLU and ReLU keep the sign of x in y). */
export const actGradKernel = defineKernel<{ act: Activation; alpha: number }>({
  name: 'ActGrad',
  outputs: ([dy]) => [dy!],
  native(k, [dy, y], [dx], _shapes, { act, alpha }) {
    k.actGrad(dy!, y!, dx!, NATIVE_EW_ACT[act], alpha)
    return true
  },
  run([dy, y], [dx], _shapes, { act, alpha }) {
    const n = dx!.length
    const g = dy!
    const v = y!
    const o = dx!
    switch (act) {
      case 'relu':
        for (let i = 0; i < n; i++) o[i] = v[i]! > 0 ? g[i]! : 0
        break
      case 'leakyrelu':
        for (let i = 0; i < n; i++) o[i] = v[i]! > 0 ? g[i]! : g[i]! * alpha
        break
      case 'tanh':
        for (let i = 0; i < n; i++) {
          const t = v[i]!
          o[i] = g[i]! * (1 - t * t)
        }
        break
      case 'sigmoid':
        for (let i = 0; i < n; i++) {
          const s = v[i]!
          o[i] = g[i]! * s * (1 - s)
        }
        break
      default:
        o.set(g)
    }
  }
})

// ── Reductions over the channel axis ────────────────────────────────────────────────────────

/**
 * Σ over every axis but the last: the gradient of a per-channel bias. With `weighted`, the second
 * input holds one weight per sample (first axis) and sample b's rows count w[b] times.
 */
export const channelSumKernel = defineKernel<{ weighted: boolean }>({
  name: 'ChannelSum',
  outputs: (shapes) => [[shapes[0]![shapes[0]!.length - 1]!]],
  native(k, [x, w], [out], [shape], { weighted }) {
    const c = shape![shape!.length - 1]!
    k.channelSum(x!, weighted ? w! : null, out!, x!.length / c / shape![0]!)
    return true
  },
  run([x, w], [out], [shape], { weighted }) {
    const c = shape![shape!.length - 1]!
    const rows = x!.length / c
    const perSample = rows / shape![0]!
    const acc = new Float64Array(c)
    for (let r = 0; r < rows; r++) {
      const scale = weighted ? w![Math.floor(r / perSample)]! : 1
      if (scale === 0) continue
      const base = r * c
      if (scale === 1) for (let k = 0; k < c; k++) acc[k]! += x![base + k]!
      else for (let k = 0; k < c; k++) acc[k]! += x![base + k]! * scale
    }
    for (let k = 0; k < c; k++) out![k] = acc[k]!
  }
})

/** x[b, …] · w[b]: scales each sample's slice by its own weight. */
export const scaleSamplesKernel = defineKernel<Record<string, never>>({
  name: 'ScaleSamples',
  outputs: ([x]) => [x!],
  run([x, w], [out], [shape]) {
    const per = x!.length / shape![0]!
    for (let b = 0; b < shape![0]!; b++) {
      const s = w![b]!
      const base = b * per
      for (let i = 0; i < per; i++) out![base + i] = x![base + i]! * s
    }
  }
})

// ── Layer norm over channels (per pixel) ────────────────────────────────────────────────────

/** y = (x − μ)/σ · γ + β over the last axis; also returns x̂ and 1/σ per row for the backward. */
export const channelNormKernel = defineKernel<{ epsilon: number }>({
  name: 'ChannelNorm',
  outputs: ([x]) => [x!, x!, [size(x!) / x![x!.length - 1]!]],
  native(k, [x, gamma, beta], [y, xhat, rstd], _shapes, { epsilon }) {
    k.channelNorm(x!, gamma!, beta!, y!, xhat!, rstd!, epsilon)
    return true
  },
  run([x, gamma, beta], [y, xhat, rstd], [shape], { epsilon }) {
    const c = shape![shape!.length - 1]!
    const rows = x!.length / c
    for (let r = 0; r < rows; r++) {
      const base = r * c
      let mean = 0
      for (let k = 0; k < c; k++) mean += x![base + k]!
      mean /= c
      let v = 0
      for (let k = 0; k < c; k++) {
        const d = x![base + k]! - mean
        v += d * d
      }
      const rs = 1 / Math.sqrt(v / c + epsilon)
      rstd![r] = rs
      for (let k = 0; k < c; k++) {
        const h = (x![base + k]! - mean) * rs
        xhat![base + k] = h
        y![base + k] = h * gamma![k]! + beta![k]!
      }
    }
  }
})

/**
 * Backward of channelNorm: dx = (1/σ)(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ per row;
 * dγ = Σ dy·x̂ and dβ = Σ dy over rows (sample-weighted when `weighted`).
 */
export const channelNormGradKernel = defineKernel<{ weighted: boolean }>({
  name: 'ChannelNormGrad',
  outputs: (shapes) => {
    const c = shapes[0]![shapes[0]!.length - 1]!
    return [shapes[0]!, [c], [c]]
  },
  native(k, [dy, xhat, rstd, gamma, w], [dx, dgamma, dbeta], [shape], { weighted }) {
    const c = shape![shape!.length - 1]!
    k.channelNormGrad(dy!, xhat!, rstd!, gamma!, weighted ? w! : null, dx!, dgamma!, dbeta!, dy!.length / c / shape![0]!)
    return true
  },
  run([dy, xhat, rstd, gamma, w], [dx, dgamma, dbeta], [shape], { weighted }) {
    const c = shape![shape!.length - 1]!
    const rows = dy!.length / c
    const perSample = rows / shape![0]!
    const dg = new Float64Array(c)
    const db = new Float64Array(c)
    for (let r = 0; r < rows; r++) {
      const base = r * c
      let mg = 0
      let mgx = 0
      for (let k = 0; k < c; k++) {
        const g = dy![base + k]! * gamma![k]!
        mg += g
        mgx += g * xhat![base + k]!
      }
      mg /= c
      mgx /= c
      const rs = rstd![r]!
      for (let k = 0; k < c; k++) {
        const g = dy![base + k]! * gamma![k]!
        dx![base + k] = rs * (g - mg - xhat![base + k]! * mgx)
      }
      const s = weighted ? w![Math.floor(r / perSample)]! : 1
      if (s === 0) continue
      for (let k = 0; k < c; k++) {
        const d = dy![base + k]! * s
        dg[k]! += d * xhat![base + k]!
        db[k]! += d
      }
    }
    for (let k = 0; k < c; k++) {
      dgamma![k] = dg[k]!
      dbeta![k] = db[k]!
    }
  }
})

// ── Gated linear unit over channels: [a | b] → a · σ(b) ────────────────────────────────────

export const gluKernel = defineKernel<Record<string, never>>({
  name: 'Glu',
  outputs: ([x]) => {
    const s = x!.slice()
    s[s.length - 1] = s[s.length - 1]! / 2
    return [s, s]
  },
  native(k, [x], [y, gate], [shape]) {
    k.glu(x!, y!, gate!, shape![shape!.length - 1]! / 2)
    return true
  },
  run([x], [y, gate], [shape]) {
    const c2 = shape![shape!.length - 1]!
    const c = c2 / 2
    const rows = x!.length / c2
    for (let r = 0; r < rows; r++) {
      const src = r * c2
      const dst = r * c
      for (let k = 0; k < c; k++) {
        const s = 1 / (1 + Math.exp(-x![src + c + k]!))
        gate![dst + k] = s
        y![dst + k] = x![src + k]! * s
      }
    }
  }
})

/** Backward of glu from x's first half `a` and the saved gate σ(b): [dy·σ | dy·a·σ(1−σ)]. */
export const gluGradKernel = defineKernel<Record<string, never>>({
  name: 'GluGrad',
  outputs: ([dy]) => {
    const s = dy!.slice()
    s[s.length - 1] = s[s.length - 1]! * 2
    return [s]
  },
  native(k, [dy, x, gate], [dx], [shape]) {
    k.gluGrad(dy!, x!, gate!, dx!, shape![shape!.length - 1]!)
    return true
  },
  run([dy, x, gate], [dx], [shape]) {
    const c = shape![shape!.length - 1]!
    const c2 = 2 * c
    const rows = dy!.length / c
    for (let r = 0; r < rows; r++) {
      const src = r * c
      const dst = r * c2
      for (let k = 0; k < c; k++) {
        const g = dy![src + k]!
        const s = gate![src + k]!
        dx![dst + k] = g * s
        dx![dst + c + k] = g * x![dst + k]! * s * (1 - s)
      }
    }
  }
})

// ── Resampling by 2 (NHWC) ──────────────────────────────────────────────────────────────────

/** Nearest-neighbour ×2 upsampling. */
export const upsample2Kernel = defineKernel<Record<string, never>>({
  name: 'Upsample2',
  outputs: ([x]) => [[x![0]!, x![1]! * 2, x![2]! * 2, x![3]!]],
  run([x], [y], [shape]) {
    const [n, h, w, c] = shape as [number, number, number, number]
    const rowOut = 2 * w * c
    for (let b = 0; b < n; b++)
      for (let i = 0; i < h; i++) {
        const src = ((b * h + i) * w) * c
        const dst = ((b * 2 * h + 2 * i) * 2 * w) * c
        for (let j = 0; j < w; j++) {
          const s = src + j * c
          const d = dst + 2 * j * c
          for (let k = 0; k < c; k++) {
            const v = x![s + k]!
            y![d + k] = v
            y![d + c + k] = v
          }
        }
        y!.copyWithin(dst + rowOut, dst, dst + rowOut)
      }
  }
})

/** Sum over 2×2 blocks (the gradient of nearest ×2 upsampling); `scale` 0.25 makes it an average pool. */
export const pool2Kernel = defineKernel<{ scale: number }>({
  name: 'Pool2',
  outputs: ([x]) => [[x![0]!, x![1]! / 2, x![2]! / 2, x![3]!]],
  run([x], [y], [shape], { scale }) {
    const [n, h, w, c] = shape as [number, number, number, number]
    const ho = h / 2
    const wo = w / 2
    for (let b = 0; b < n; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          const d = ((b * ho + i) * wo + j) * c
          const s0 = ((b * h + 2 * i) * w + 2 * j) * c
          const s1 = s0 + w * c
          for (let k = 0; k < c; k++) y![d + k] = (x![s0 + k]! + x![s0 + c + k]! + x![s1 + k]! + x![s1 + c + k]!) * scale
        }
  }
})

/** Broadcasts a per-sample, per-channel map [N,1,1,C] (or [N,C]) over H×W, times `scale`. */
export const spreadKernel = defineKernel<{ height: number; width: number; scale: number }>({
  name: 'Spread',
  outputs: ([g], { height, width }) => [[g![0]!, height, width, g![g!.length - 1]!]],
  run([g], [y], [shape], { height, width, scale }) {
    const n = shape![0]!
    const c = shape![shape!.length - 1]!
    const hw = height * width
    for (let b = 0; b < n; b++)
      for (let p = 0; p < hw; p++) {
        const d = (b * hw + p) * c
        for (let k = 0; k < c; k++) y![d + k] = g![b * c + k]! * scale
      }
  }
})

// ── Channel gating (skip-layer excitation): y = x · g, g per sample and channel ─────────────

export const gateKernel = defineKernel<Record<string, never>>({
  name: 'Gate',
  outputs: ([x]) => [x!],
  run([x, g], [y], [shape]) {
    const [n, h, w, c] = shape as [number, number, number, number]
    const hw = h * w
    for (let b = 0; b < n; b++)
      for (let p = 0; p < hw; p++) {
        const d = (b * hw + p) * c
        const gb = b * c
        for (let k = 0; k < c; k++) y![d + k] = x![d + k]! * g![gb + k]!
      }
  }
})

/** Backward of gate: dx = dy·g, dg[b, c] = Σ_hw dy·x. */
export const gateGradKernel = defineKernel<Record<string, never>>({
  name: 'GateGrad',
  outputs: ([dy]) => [dy!, [dy![0]!, 1, 1, dy![3]!]],
  run([dy, x, g], [dx, dg], [shape]) {
    const [n, h, w, c] = shape as [number, number, number, number]
    const hw = h * w
    const acc = new Float64Array(c)
    for (let b = 0; b < n; b++) {
      acc.fill(0)
      const gb = b * c
      for (let p = 0; p < hw; p++) {
        const d = (b * hw + p) * c
        for (let k = 0; k < c; k++) {
          const v = dy![d + k]!
          dx![d + k] = v * g![gb + k]!
          acc[k]! += v * x![d + k]!
        }
      }
      for (let k = 0; k < c; k++) dg![gb + k] = acc[k]!
    }
  }
})

// ── Bias and activation after a convolution that has no fused form ──────────────────────────

export const biasActKernel = defineKernel<{ act: Activation; alpha: number }>({
  name: 'BiasAct',
  outputs: ([x]) => [x!],
  native(k, [x, bias], [y], _shapes, { act, alpha }) {
    k.biasAct(x!, bias!, y!, NATIVE_EW_ACT[act], alpha)
    return true
  },
  run([x, bias], [y], [shape], { act, alpha }) {
    const c = shape![shape!.length - 1]!
    const n = x!.length
    const xs = x!
    const bs = bias!
    const ys = y!
    for (let base = 0; base < n; base += c) for (let k = 0; k < c; k++) ys[base + k] = xs[base + k]! + bs[k]!
    applyActivation(ys, act, alpha)
  }
})

/** In place: y ← act(y). */
export function applyActivation(y: F32, act: Activation, alpha: number): void {
  const n = y.length
  switch (act) {
    case 'relu':
      for (let i = 0; i < n; i++) if (y[i]! < 0) y[i] = 0
      break
    case 'leakyrelu':
      for (let i = 0; i < n; i++) if (y[i]! < 0) y[i] = y[i]! * alpha
      break
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(y[i]!)
      break
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]!))
      break
    default:
  }
}

// ── Minibatch standard deviation (groups of consecutive images) ─────────────────────────────

/**
 * For each group of `group` consecutive images: the standard deviation of every feature over
 * the group, averaged into one number, appended to every pixel of the group's images as an extra
 * channel. Outputs: y [N,H,W,C+1], and σ [N/group, H, W, C] for the backward.
 */
export const mbstdKernel = defineKernel<{ group: number; epsilon: number }>({
  name: 'MbStd',
  outputs: ([x], { group }) => [[x![0]!, x![1]!, x![2]!, x![3]! + 1], [x![0]! / group, x![1]!, x![2]!, x![3]!]],
  run([x], [y, sigma], [shape], { group, epsilon }) {
    const [n, h, w, c] = shape as [number, number, number, number]
    const per = h * w * c
    const groups = n / group
    for (let k = 0; k < groups; k++) {
      let total = 0
      const sBase = k * per
      for (let f = 0; f < per; f++) {
        let mean = 0
        for (let i = 0; i < group; i++) mean += x![(k * group + i) * per + f]!
        mean /= group
        let v = 0
        for (let i = 0; i < group; i++) {
          const d = x![(k * group + i) * per + f]! - mean
          v += d * d
        }
        const s = Math.sqrt(v / group + epsilon)
        sigma![sBase + f] = s
        total += s
      }
      const stat = total / per
      for (let i = 0; i < group; i++) {
        const b = k * group + i
        for (let p = 0; p < h * w; p++) {
          const src = b * per + p * c
          const dst = (b * h * w + p) * (c + 1)
          for (let ch = 0; ch < c; ch++) y![dst + ch] = x![src + ch]!
          y![dst + c] = stat
        }
      }
    }
  }
})

/** Backward of mbstd: dx = dy[…, :C] + (Σ_group dy[…, C]) / (H·W·C) · (x − μ) / (group · σ). */
export const mbstdGradKernel = defineKernel<{ group: number }>({
  name: 'MbStdGrad',
  outputs: ([dy]) => [[dy![0]!, dy![1]!, dy![2]!, dy![3]! - 1]],
  run([dy, x, sigma], [dx], [shape], { group }) {
    const [n, h, w, c1] = shape as [number, number, number, number]
    const c = c1 - 1
    const per = h * w * c
    const groups = n / group
    for (let k = 0; k < groups; k++) {
      let ds = 0
      for (let i = 0; i < group; i++) {
        const b = k * group + i
        for (let p = 0; p < h * w; p++) ds += dy![(b * h * w + p) * c1 + c]!
      }
      const scale = ds / per / group
      for (let f = 0; f < per; f++) {
        let mean = 0
        for (let i = 0; i < group; i++) mean += x![(k * group + i) * per + f]!
        mean /= group
        const inv = scale / sigma![k * per + f]!
        for (let i = 0; i < group; i++) {
          const b = k * group + i
          const p = Math.floor(f / c)
          const ch = f - p * c
          dx![b * per + f] = dy![(b * h * w + p) * c1 + ch]! + (x![b * per + f]! - mean) * inv
        }
      }
    }
  }
})

// ── Batch norm over groups of consecutive images ────────────────────────────────────────────

/**
 * Per channel, over each group of `group` consecutive images and all their pixels:
 * y = (x − μ)/σ·γ + β. Outputs y, x̂ and 1/σ per (group, channel).
 */
export const batchNormKernel = defineKernel<{ group: number; epsilon: number }>({
  name: 'BatchNorm',
  outputs: ([x], { group }) => [x!, x!, [x![0]! / group, x![x!.length - 1]!]],
  run([x, gamma, beta], [y, xhat, rstd], [shape], { group, epsilon }) {
    const c = shape![shape!.length - 1]!
    const n = shape![0]!
    const perImage = x!.length / n
    const rows = (group * perImage) / c
    const mean = new Float64Array(c)
    const sq = new Float64Array(c)
    for (let k = 0; k < n / group; k++) {
      const base = k * group * perImage
      mean.fill(0)
      sq.fill(0)
      for (let r = 0; r < rows; r++) {
        const o = base + r * c
        for (let ch = 0; ch < c; ch++) mean[ch]! += x![o + ch]!
      }
      for (let ch = 0; ch < c; ch++) mean[ch] = mean[ch]! / rows
      for (let r = 0; r < rows; r++) {
        const o = base + r * c
        for (let ch = 0; ch < c; ch++) {
          const d = x![o + ch]! - mean[ch]!
          sq[ch]! += d * d
        }
      }
      for (let ch = 0; ch < c; ch++) rstd![k * c + ch] = 1 / Math.sqrt(sq[ch]! / rows + epsilon)
      for (let r = 0; r < rows; r++) {
        const o = base + r * c
        for (let ch = 0; ch < c; ch++) {
          const h = (x![o + ch]! - mean[ch]!) * rstd![k * c + ch]!
          xhat![o + ch] = h
          y![o + ch] = h * gamma![ch]! + beta![ch]!
        }
      }
    }
  }
})

/** Backward of batchNorm: per group, dx = (1/σ)(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ; dγ = Σ dy·x̂, dβ = Σ dy. */
export const batchNormGradKernel = defineKernel<{ group: number }>({
  name: 'BatchNormGrad',
  outputs: (shapes) => {
    const c = shapes[0]![shapes[0]!.length - 1]!
    return [shapes[0]!, [c], [c]]
  },
  run([dy, xhat, rstd, gamma], [dx, dgamma, dbeta], [shape], { group }) {
    const c = shape![shape!.length - 1]!
    const n = shape![0]!
    const perImage = dy!.length / n
    const rows = (group * perImage) / c
    const mg = new Float64Array(c)
    const mgx = new Float64Array(c)
    const dg = new Float64Array(c)
    const db = new Float64Array(c)
    for (let k = 0; k < n / group; k++) {
      const base = k * group * perImage
      mg.fill(0)
      mgx.fill(0)
      for (let r = 0; r < rows; r++) {
        const o = base + r * c
        for (let ch = 0; ch < c; ch++) {
          const d = dy![o + ch]!
          const h = xhat![o + ch]!
          mg[ch]! += d
          mgx[ch]! += d * h
        }
      }
      for (let ch = 0; ch < c; ch++) {
        db[ch]! += mg[ch]!
        dg[ch]! += mgx[ch]!
      }
      for (let r = 0; r < rows; r++) {
        const o = base + r * c
        for (let ch = 0; ch < c; ch++) {
          const gm = gamma![ch]!
          dx![o + ch] = rstd![k * c + ch]! * gm * (dy![o + ch]! - mg[ch]! / rows - xhat![o + ch]! * (mgx[ch]! / rows))
        }
      }
    }
    for (let ch = 0; ch < c; ch++) {
      dgamma![ch] = dg[ch]!
      dbeta![ch] = db[ch]!
    }
  }
})
