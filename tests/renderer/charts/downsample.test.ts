import { describe, expect, it } from 'vitest'
import { lttb, pointsForWindow, visibleSlice } from '../../../src/renderer/src/charts/downsample'
import { MetricBuffer } from '../../../src/renderer/src/charts/buffer'
import { metric } from '../helpers/mockBridge'

function series(n: number, f: (i: number) => number): { xs: Float64Array; ys: Float64Array } {
  const xs = new Float64Array(n)
  const ys = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    xs[i] = i * 10
    ys[i] = f(i)
  }
  return { xs, ys }
}

describe('lttb', () => {
  it('returns every point when there are fewer than the threshold', () => {
    const { xs, ys } = series(5, (i) => i)
    expect(lttb(xs, ys, 0, 5, 100)).toHaveLength(5)
  })

  it('returns exactly `threshold` points, keeping the first and last', () => {
    const { xs, ys } = series(10_000, (i) => Math.sin(i / 50))
    const out = lttb(xs, ys, 0, 10_000, 500)
    expect(out).toHaveLength(500)
    expect(out[0]).toEqual({ x: 0, y: ys[0] })
    expect(out.at(-1)).toEqual({ x: 99_990, y: ys[9999] })
    // x stays in order
    for (let i = 1; i < out.length; i++) expect(out[i]!.x).toBeGreaterThan(out[i - 1]!.x)
  })

  it('keeps a single spike that averaging would flatten', () => {
    const { xs, ys } = series(100_000, () => 1)
    ys[54_321] = 50
    const out = lttb(xs, ys, 0, 100_000, 800)
    expect(Math.max(...out.map((p) => p.y))).toBe(50)
  })

  it('skips non-finite values', () => {
    const { xs, ys } = series(1000, (i) => (i % 7 === 0 ? Number.NaN : i))
    const out = lttb(xs, ys, 0, 1000, 100)
    expect(out.every((p) => Number.isFinite(p.y))).toBe(true)
    expect(out.length).toBeLessThanOrEqual(100)
  })

  it('only reads the requested slice', () => {
    const { xs, ys } = series(1000, (i) => i)
    const out = lttb(xs, ys, 100, 200, 1000)
    expect(out[0]!.x).toBe(1000)
    expect(out.at(-1)!.x).toBe(1990)
  })
})

describe('visibleSlice', () => {
  const xs = new Float64Array([0, 10, 20, 30, 40, 50])
  it('includes one neighbour beyond each edge so lines reach the plot edges', () => {
    expect(visibleSlice(xs, 6, 15, 35)).toEqual([1, 5])
  })
  it('is the whole range without a window', () => {
    expect(visibleSlice(xs, 6, null, null)).toEqual([0, 6])
  })
})

describe('pointsForWindow over 100,000 points', () => {
  it('never hands the chart more points than its width, zoomed or not, and stays fast', () => {
    const b = new MetricBuffer(0.6)
    const records = Array.from({ length: 100_000 }, (_, i) => metric(i * 10))
    const t0 = performance.now()
    b.append(records)
    const full = pointsForWindow(b.steps, b.smooth.gLoss, b.length, null, 900)
    const zoomed = pointsForWindow(b.steps, b.raw.gLoss, b.length, { min: 200_000, max: 300_000 }, 900)
    const elapsed = performance.now() - t0
    expect(full).toHaveLength(900)
    expect(zoomed).toHaveLength(900)
    expect(zoomed[0]!.x).toBeLessThanOrEqual(200_000)
    expect(zoomed.at(-1)!.x).toBeGreaterThanOrEqual(300_000)
    expect(zoomed.at(-1)!.x).toBeLessThanOrEqual(300_010)
    // Generous bound for a slow shared CI core; the real cost is a few milliseconds.
    expect(elapsed).toBeLessThan(1500)
  })
})
