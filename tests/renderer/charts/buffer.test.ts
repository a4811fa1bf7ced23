import { describe, expect, it } from 'vitest'
import { MetricBuffer, lowerBound, upperBound } from '../../../src/renderer/src/charts/buffer'
import { metric } from '../helpers/mockBridge'

const steps = (b: MetricBuffer) => Array.from(b.steps.subarray(0, b.length))

describe('MetricBuffer', () => {
  it('grows past its initial capacity without losing points', () => {
    const b = new MetricBuffer(0, 16)
    b.append(Array.from({ length: 1000 }, (_, i) => metric(i * 10)))
    expect(b.length).toBe(1000)
    expect(b.steps[999]).toBe(9990)
    expect(b.raw.gLoss[500]).toBeCloseTo(metric(5000).gLoss, 12)
  })

  it('smooths with a debiased exponential moving average, incrementally', () => {
    const w = 0.9
    const b = new MetricBuffer(w)
    const values = [4, 2, 8, 6, 3]
    values.forEach((v, i) => b.append([metric(i, { gLoss: v })]))
    let acc = 0
    values.forEach((v, i) => {
      acc = w * acc + (1 - w) * v
      expect(b.smooth.gLoss[i]).toBeCloseTo(acc / (1 - w ** (i + 1)), 12)
    })
    // The first smoothed value equals the first raw value (no bias towards zero).
    expect(b.smooth.gLoss[0]).toBeCloseTo(4, 12)
  })

  it('re-smooths everything when the smoothing changes, and bumps the epoch', () => {
    const b = new MetricBuffer(0.9)
    b.append([metric(1, { dLoss: 1 }), metric(2, { dLoss: 3 })])
    const epoch = b.epoch
    b.setSmoothing(0)
    expect(b.epoch).toBeGreaterThan(epoch)
    expect(b.smooth.dLoss[1]).toBe(3)
  })

  it('skips non-finite values when smoothing (a diverged step does not poison the curve)', () => {
    const b = new MetricBuffer(0.5)
    b.append([metric(1, { gLoss: 2 }), metric(2, { gLoss: Number.NaN }), metric(3, { gLoss: 2 })])
    expect(Number.isNaN(b.smooth.gLoss[1]!)).toBe(true)
    expect(b.smooth.gLoss[2]).toBeCloseTo(2, 12)
  })

  it('a step at or before the last one drops the points from there (resumed from an older checkpoint)', () => {
    const b = new MetricBuffer(0)
    b.append([10, 20, 30, 40].map((s) => metric(s)))
    const epoch = b.epoch
    b.append([metric(30, { gLoss: 7 }), metric(35)])
    expect(steps(b)).toEqual([10, 20, 30, 35])
    expect(b.raw.gLoss[2]).toBe(7)
    expect(b.epoch).toBeGreaterThan(epoch)
  })

  it('appending only new steps keeps the epoch (charts may append instead of redrawing)', () => {
    const b = new MetricBuffer(0.5)
    b.append([metric(1)])
    const epoch = b.epoch
    b.append([metric(2), metric(3)])
    expect(b.epoch).toBe(epoch)
    expect(b.lastStep).toBe(3)
  })
})

describe('binary search helpers', () => {
  const xs = new Float64Array([1, 3, 3, 5, 9])
  it('lowerBound finds the first index >= value', () => {
    expect(lowerBound(xs, 5, 0)).toBe(0)
    expect(lowerBound(xs, 5, 3)).toBe(1)
    expect(lowerBound(xs, 5, 4)).toBe(3)
    expect(lowerBound(xs, 5, 10)).toBe(5)
  })
  it('upperBound finds the first index > value', () => {
    expect(upperBound(xs, 5, 3)).toBe(3)
    expect(upperBound(xs, 5, 9)).toBe(5)
    expect(upperBound(xs, 5, 0)).toBe(0)
  })
})
