import type { MetricRecord } from '@shared/runs'

/** The metrics the Run view plots, in the order they are stored. */
export const METRIC_FIELDS = ['gLoss', 'dLoss', 'dReal', 'dFake', 'imagesPerSec'] as const
export type MetricField = (typeof METRIC_FIELDS)[number]

/** One line on a chart: which metric, its name, and the CSS custom property holding its colour. */
export interface ChartSeries {
  field: MetricField
  label: string
  /** e.g. `--series-g` */
  colorVar: string
}

type Columns = Record<MetricField, Float64Array>

function columns(capacity: number): Columns {
  return {
    gLoss: new Float64Array(capacity),
    dLoss: new Float64Array(capacity),
    dReal: new Float64Array(capacity),
    dFake: new Float64Array(capacity),
    imagesPerSec: new Float64Array(capacity)
  }
}

interface EmaState {
  acc: number
  /** How many finite values went into acc (for the debiasing term). */
  n: number
}

/**
 * Every logged metric of one run, column by column in growable typed arrays, with an exponential
 * moving average kept alongside so smoothing costs O(1) per appended record. Holds 100,000+ points
 * without creating an object per point; charts read ranges of it and downsample.
 */
export class MetricBuffer {
  length = 0
  steps: Float64Array
  raw: Columns
  smooth: Columns
  /** Bumped on every change; charts compare it with what they drew. */
  version = 0
  /** Bumped when earlier points change (truncation, clear, new smoothing): appending is not enough. */
  epoch = 0
  private capacity: number
  private weight: number
  private ema: Record<MetricField, EmaState>

  constructor(smoothing = 0.6, initialCapacity = 1024) {
    this.capacity = Math.max(16, initialCapacity)
    this.steps = new Float64Array(this.capacity)
    this.raw = columns(this.capacity)
    this.smooth = columns(this.capacity)
    this.weight = clampWeight(smoothing)
    this.ema = freshEma()
  }

  get smoothing(): number {
    return this.weight
  }

  get lastStep(): number {
    return this.length > 0 ? this.steps[this.length - 1]! : -1
  }

  get firstStep(): number {
    return this.length > 0 ? this.steps[0]! : -1
  }

  clear(): void {
    this.length = 0
    this.ema = freshEma()
    this.version++
    this.epoch++
  }

  /**
   * Appends records in step order. A record whose step is not after the last one (a run resumed
   * from an older checkpoint logs those steps again) drops the stored points from that step on.
   */
  append(records: readonly MetricRecord[]): void {
    if (records.length === 0) return
    for (const r of records) {
      if (!Number.isFinite(r.step)) continue
      if (this.length > 0 && r.step <= this.lastStep) this.truncateFrom(r.step)
      this.push(r)
    }
    this.version++
  }

  /** Index of the first stored point with step >= `step`. */
  indexOfStep(step: number): number {
    return lowerBound(this.steps, this.length, step)
  }

  setSmoothing(smoothing: number): void {
    const w = clampWeight(smoothing)
    if (w === this.weight) return
    this.weight = w
    this.resmooth(0)
    this.version++
    this.epoch++
  }

  private truncateFrom(step: number): void {
    const at = lowerBound(this.steps, this.length, step)
    if (at >= this.length) return
    this.length = at
    this.resmooth(0)
    this.epoch++
  }

  private push(r: MetricRecord): void {
    if (this.length === this.capacity) this.grow()
    const i = this.length++
    this.steps[i] = r.step
    for (const f of METRIC_FIELDS) {
      const v = typeof r[f] === 'number' ? r[f] : Number.NaN
      this.raw[f][i] = v
      this.smooth[f][i] = this.smoothNext(f, v)
    }
  }

  private smoothNext(f: MetricField, v: number): number {
    if (!Number.isFinite(v)) return Number.NaN
    const s = this.ema[f]
    const w = this.weight
    s.acc = w * s.acc + (1 - w) * v
    s.n += 1
    const debias = 1 - Math.pow(w, s.n)
    return debias > 0 ? s.acc / debias : v
  }

  private resmooth(from: number): void {
    this.ema = freshEma()
    for (let i = from; i < this.length; i++) {
      for (const f of METRIC_FIELDS) this.smooth[f][i] = this.smoothNext(f, this.raw[f][i]!)
    }
  }

  private grow(): void {
    const next = this.capacity * 2
    const copy = (a: Float64Array): Float64Array => {
      const b = new Float64Array(next)
      b.set(a.subarray(0, this.length))
      return b
    }
    this.steps = copy(this.steps)
    for (const f of METRIC_FIELDS) {
      this.raw[f] = copy(this.raw[f])
      this.smooth[f] = copy(this.smooth[f])
    }
    this.capacity = next
  }
}

function freshEma(): Record<MetricField, EmaState> {
  return {
    gLoss: { acc: 0, n: 0 },
    dLoss: { acc: 0, n: 0 },
    dReal: { acc: 0, n: 0 },
    dFake: { acc: 0, n: 0 },
    imagesPerSec: { acc: 0, n: 0 }
  }
}

function clampWeight(w: number): number {
  if (!Number.isFinite(w)) return 0
  return Math.min(0.999, Math.max(0, w))
}

/** First index in sorted xs[0..length) with xs[i] >= value. */
export function lowerBound(xs: ArrayLike<number>, length: number, value: number): number {
  let lo = 0
  let hi = length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index in sorted xs[0..length) with xs[i] > value. */
export function upperBound(xs: ArrayLike<number>, length: number, value: number): number {
  let lo = 0
  let hi = length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! <= value) lo = mid + 1
    else hi = mid
  }
  return lo
}
