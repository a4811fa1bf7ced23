import * as tf from '@tensorflow/tfjs'
import type { Param } from '../nn/ops'
import type { Params, ParamSpec } from './family'
import type { Rng } from './rng'

/**
 * Parameters, Adam moments and the generator's moving average, held in flat Float32Arrays on the
 * CPU. The forward pass gets tensors made from them (cached until the next update); gradients come
 * back as one flat array in the same layout, from one process or summed over data-parallel
 * workers, and the update runs as a loop over plain arrays: one pass per parameter for Adam and
 * the EMA instead of a dozen tensor ops each.
 *
 * The arrays may live in SharedArrayBuffers so that several workers read the same parameters and
 * each updates its own slice.
 */

export interface Slot {
  name: string
  shape: number[]
  offset: number
  length: number
}

export interface Layout {
  slots: Slot[]
  byName: Map<string, Slot>
  /** Total floats. */
  size: number
}

export function makeLayout(specs: ParamSpec[]): Layout {
  let size = 0
  const slots = specs.map((p) => {
    const length = p.shape.reduce((a, b) => a * b, 1)
    const slot = { name: p.name, shape: p.shape.slice(), offset: size, length }
    size += length
    return slot
  })
  return { slots, byName: new Map(slots.map((s) => [s.name, s])), size }
}

const INIT_STD = 0.02

/** Initial values drawn from the seeded RNG, so a seed means the same weights on every backend. */
export function initialValue(p: ParamSpec, rng: Rng): Float32Array {
  const size = p.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(size)
  if (p.init === 'normal') rng.fillNormal(out, p.std ?? INIT_STD)
  else if (p.init === 'fanIn') {
    const axes = p.fanInAxes ?? p.shape.slice(0, -1).map((_, i) => i)
    const fanIn = axes.reduce((a, i) => a * p.shape[i]!, 1)
    rng.fillNormal(out, (p.gain ?? 1) / Math.sqrt(fanIn))
  } else if (p.init === 'ones') out.fill(1)
  return out
}

export interface AdamSettings {
  lr: number
  beta1: number
  beta2: number
  epsilon?: number
}

/** Where a buffer comes from: shared between workers, or private. */
export type Alloc = (floats: number) => Float32Array
export const privateAlloc: Alloc = (n) => new Float32Array(n)
export const sharedAlloc: Alloc = (n) => new Float32Array(new SharedArrayBuffer(n * 4))

/**
 * One network's parameters with their Adam moments (and optionally an EMA copy).
 * PyTorch's Adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
 */
export class FlatNet implements NetState {
  readonly values: Float32Array
  readonly m: Float32Array
  readonly v: Float32Array
  readonly ema: Float32Array | null
  /** Adam steps taken (shared by all workers through the owner). */
  step = 0
  private cache: Record<string, tf.Tensor> | null = null
  private emaCache: Record<string, tf.Tensor> | null = null

  constructor(
    readonly layout: Layout,
    readonly adam: AdamSettings,
    withEma: boolean,
    alloc: Alloc = privateAlloc,
    buffers?: { values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }
  ) {
    this.values = buffers?.values ?? alloc(layout.size)
    this.m = buffers?.m ?? alloc(layout.size)
    this.v = buffers?.v ?? alloc(layout.size)
    this.ema = buffers ? buffers.ema : withEma ? alloc(layout.size) : null
  }

  init(specs: ParamSpec[], rng: Rng): void {
    for (const p of specs) this.values.set(initialValue(p, rng), this.layout.byName.get(p.name)!.offset)
    this.ema?.set(this.values)
    this.invalidate()
  }

  /** Tensors of the current values (made once per update, kept outside any tidy). */
  tensors(): Record<string, tf.Tensor> {
    this.cache ??= this.toTensors(this.values)
    return this.cache
  }

  emaTensors(): Record<string, tf.Tensor> {
    if (!this.ema) throw new Error('this network keeps no moving average')
    this.emaCache ??= this.toTensors(this.ema)
    return this.emaCache
  }

  private toTensors(src: Float32Array): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {}
    for (const s of this.layout.slots) out[s.name] = tf.keep(tf.tensor(src.subarray(s.offset, s.offset + s.length), s.shape))
    return out
  }

  /** Drop cached tensors (after the arrays changed). */
  invalidate(): void {
    if (this.cache) tf.dispose(Object.values(this.cache))
    if (this.emaCache) tf.dispose(Object.values(this.emaCache))
    this.cache = null
    this.emaCache = null
  }

  /**
   * Adam on [from, to) of the flat layout with gradient `g` (same layout), for step `t` (1-based).
   * Workers each call this on their own range.
   */
  adamRange(g: Float32Array, t: number, from: number, to: number): void {
    const { lr, beta1: b1, beta2: b2 } = this.adam
    const eps = this.adam.epsilon ?? 1e-8
    const stepSize = lr / (1 - b1 ** t)
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t)
    const c1 = 1 - b1
    const c2 = 1 - b2
    const p = this.values
    const m = this.m
    const v = this.v
    for (let i = from; i < to; i++) {
      const gi = g[i]!
      const mi = b1 * m[i]! + c1 * gi
      const vi = b2 * v[i]! + c2 * gi * gi
      m[i] = mi
      v[i] = vi
      p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps)
    }
  }

  /** ema ← decay·ema + (1−decay)·values on [from, to); decay 0 copies. */
  emaRange(decay: number, from: number, to: number): void {
    const e = this.ema!
    const p = this.values
    if (decay === 0) {
      e.set(p.subarray(from, to), from)
      return
    }
    const c = 1 - decay
    for (let i = from; i < to; i++) e[i] = decay * e[i]! + c * p[i]!
  }

  /** One Adam step with tensor gradients by name, then the EMA (decay 0 copies; null skips). */
  apply(grads: Map<string, tf.Tensor>, emaDecay: number | null): void {
    const g = gatherGrads(this.layout, grads)
    this.step += 1
    this.adamRange(g, this.step, 0, this.layout.size)
    if (emaDecay !== null && this.ema) this.emaRange(emaDecay, 0, this.layout.size)
    this.invalidate()
  }

  async read(): Promise<{ values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }> {
    return { values: this.values.slice(), m: this.m.slice(), v: this.v.slice(), ema: this.ema ? this.ema.slice() : null }
  }

  write(state: { values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }): void {
    this.values.set(state.values)
    this.m.set(state.m)
    this.v.set(state.v)
    if (this.ema && state.ema) this.ema.set(state.ema)
    this.invalidate()
  }

  /** A Params lookup over the current (or EMA) tensors. */
  lookup(useEma = false): Params {
    const t = useEma ? this.emaTensors() : this.tensors()
    return (name: string): Param => {
      const value = t[name]
      if (!value) throw new Error(`no parameter ${name}`)
      return { name, value }
    }
  }

  dispose(): void {
    this.invalidate()
  }
}

/** Copies gradient tensors into a flat array of the layout (zeros where a parameter got none). */
export function gatherGrads(layout: Layout, grads: Map<string, tf.Tensor>, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(layout.size)
  for (const s of layout.slots) {
    const g = grads.get(s.name)
    if (!g) {
      out.fill(0, s.offset, s.offset + s.length)
      continue
    }
    if (g.size !== s.length) throw new Error(`gradient of ${s.name} has ${g.size} values, expected ${s.length}`)
    out.set(g.dataSync() as Float32Array, s.offset)
  }
  return out
}

/** What the training step needs of a network's state, on the CPU (FlatNet) or the device (DeviceNet). */
export interface NetState {
  readonly layout: Layout
  step: number
  init(specs: ParamSpec[], rng: Rng): void
  lookup(useEma?: boolean): Params
  apply(grads: Map<string, tf.Tensor>, emaDecay: number | null): void
  read(): Promise<{ values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }>
  write(state: { values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }): void
  dispose(): void
}

/**
 * The same network state kept on the device (GPU backends): tf.Variables for the values, the Adam
 * moments and the EMA, updated with tf ops, so no step waits on a GPU→CPU copy.
 */
export class DeviceNet implements NetState {
  step = 0
  private readonly values = new Map<string, tf.Variable>()
  private readonly m = new Map<string, tf.Variable>()
  private readonly v = new Map<string, tf.Variable>()
  private readonly ema = new Map<string, tf.Variable>()

  constructor(
    readonly layout: Layout,
    readonly adam: AdamSettings,
    readonly withEma: boolean
  ) {}

  init(specs: ParamSpec[], rng: Rng): void {
    for (const p of specs) this.setValue(p.name, initialValue(p, rng), true)
  }

  private setValue(name: string, data: Float32Array, alsoEma: boolean): void {
    const s = this.layout.byName.get(name)!
    const put = (store: Map<string, tf.Variable>, values: Float32Array): void => {
      const t = tf.tensor(values, s.shape)
      const old = store.get(name)
      if (old) {
        old.assign(t)
        t.dispose()
      } else store.set(name, tf.variable(t, false))
    }
    put(this.values, data)
    if (!this.m.has(name)) {
      put(this.m, new Float32Array(s.length))
      put(this.v, new Float32Array(s.length))
    }
    if (this.withEma && (alsoEma || !this.ema.has(name))) put(this.ema, data)
  }

  lookup(useEma = false): Params {
    const store = useEma ? this.ema : this.values
    return (name: string): Param => {
      const value = store.get(name)
      if (!value) throw new Error(`no parameter ${name}`)
      return { name, value }
    }
  }

  /** One Adam step with tensor gradients by name, then the EMA (decay 0 copies; null skips). */
  apply(grads: Map<string, tf.Tensor>, emaDecay: number | null): void {
    this.step += 1
    const { lr, beta1: b1, beta2: b2 } = this.adam
    const eps = this.adam.epsilon ?? 1e-8
    const stepSize = lr / (1 - b1 ** this.step)
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** this.step)
    tf.tidy(() => {
      for (const s of this.layout.slots) {
        const g = grads.get(s.name)
        if (!g) continue
        const p = this.values.get(s.name)!
        const m = this.m.get(s.name)!
        const v = this.v.get(s.name)!
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1))
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2))
        m.assign(mNew)
        v.assign(vNew)
        p.assign(tf.sub(p, tf.mul(tf.div(mNew, tf.add(tf.mul(tf.sqrt(vNew), invSqrtBc2), eps)), stepSize)))
        if (emaDecay !== null && this.withEma) {
          const e = this.ema.get(s.name)!
          e.assign(emaDecay === 0 ? p : tf.add(tf.mul(e, emaDecay), tf.mul(p, 1 - emaDecay)))
        }
      }
    })
  }

  /** Values, EMA and moments as arrays (one read from the device per tensor). */
  async read(): Promise<{ values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }> {
    const out = {
      values: new Float32Array(this.layout.size),
      m: new Float32Array(this.layout.size),
      v: new Float32Array(this.layout.size),
      ema: this.withEma ? new Float32Array(this.layout.size) : null
    }
    for (const s of this.layout.slots) {
      out.values.set((await this.values.get(s.name)!.data()) as Float32Array, s.offset)
      out.m.set((await this.m.get(s.name)!.data()) as Float32Array, s.offset)
      out.v.set((await this.v.get(s.name)!.data()) as Float32Array, s.offset)
      if (out.ema) out.ema.set((await this.ema.get(s.name)!.data()) as Float32Array, s.offset)
    }
    return out
  }

  /** Loads arrays in the layout (as `read` returns them). */
  write(state: { values: Float32Array; m: Float32Array; v: Float32Array; ema: Float32Array | null }): void {
    for (const s of this.layout.slots) {
      const slice = (a: Float32Array): Float32Array => a.slice(s.offset, s.offset + s.length)
      const set = (store: Map<string, tf.Variable>, a: Float32Array): void => {
        const t = tf.tensor(slice(a), s.shape)
        const old = store.get(s.name)
        if (old) {
          old.assign(t)
          t.dispose()
        } else store.set(s.name, tf.variable(t, false))
      }
      set(this.values, state.values)
      set(this.m, state.m)
      set(this.v, state.v)
      if (this.withEma && state.ema) set(this.ema, state.ema)
    }
  }

  dispose(): void {
    for (const store of [this.values, this.m, this.v, this.ema]) {
      tf.dispose([...store.values()])
      store.clear()
    }
  }
}
