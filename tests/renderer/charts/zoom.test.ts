import { describe, expect, it } from 'vitest'
import { clampRange, coversAll, panBy, rangeFromDrag, zoomAround } from '../../../src/renderer/src/charts/zoom'

const bounds = { min: 0, max: 1000 }

describe('chart zoom maths', () => {
  it('zooming in keeps the value under the pointer in place', () => {
    const r = zoomAround(bounds, 250, 0.5, bounds)
    expect(r).toEqual({ min: 125, max: 625 })
    // 250 is a quarter of the way in, before and after
    expect((250 - r.min) / (r.max - r.min)).toBeCloseTo(0.25)
  })

  it('zooming out never leaves the data', () => {
    const r = zoomAround({ min: 900, max: 1000 }, 990, 4, bounds)
    expect(r.min).toBeGreaterThanOrEqual(0)
    expect(r.max).toBeLessThanOrEqual(1000)
    expect(r.max - r.min).toBeCloseTo(400)
  })

  it('has a minimum span', () => {
    const r = zoomAround({ min: 500, max: 504 }, 502, 0.01, bounds, 4)
    expect(r.max - r.min).toBeCloseTo(4)
  })

  it('panning stops at the edges', () => {
    expect(panBy({ min: 100, max: 200 }, -500, bounds)).toEqual({ min: 0, max: 100 })
    expect(panBy({ min: 800, max: 900 }, 500, bounds)).toEqual({ min: 900, max: 1000 })
  })

  it('a drag selects its range; a tiny drag is not a zoom', () => {
    expect(rangeFromDrag(700, 300, bounds)).toEqual({ min: 300, max: 700 })
    expect(rangeFromDrag(300, 300.5, bounds)).toBeNull()
  })

  it('clamps and recognises the full range', () => {
    expect(clampRange({ min: -50, max: 50 }, bounds)).toEqual({ min: 0, max: 100 })
    expect(coversAll({ min: 0, max: 1000 }, bounds)).toBe(true)
    expect(coversAll({ min: 1, max: 1000 }, bounds)).toBe(false)
  })
})
