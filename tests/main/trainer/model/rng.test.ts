import { describe, expect, it } from 'vitest'
import { latentForSeed, Rng } from '../../../../src/main/trainer/model/rng'

describe('Rng', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const c = new Rng(43)
    const sa = Array.from({ length: 8 }, () => a.nextUint32())
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa)
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa)
  })

  it('continues exactly from a saved state', () => {
    const a = new Rng(7)
    a.fillNormal(new Float32Array(13))
    const state = a.getState()
    const expected = Array.from({ length: 5 }, () => a.normal())
    const b = new Rng(state)
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(expected)
  })

  it('draws uniform numbers in [0, 1) and standard normals', () => {
    const r = new Rng(1)
    const u = Array.from({ length: 20000 }, () => r.next())
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...u)).toBeLessThan(1)
    const z = r.fillNormal(new Float32Array(20000))
    const mean = z.reduce((s, v) => s + v, 0) / z.length
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })

  it('shuffles into a permutation', () => {
    const order = new Rng(3).shuffle(100)
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect([...order]).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
  })
})

describe('latentForSeed', () => {
  it('is a pure function of the seed', () => {
    expect(Array.from(latentForSeed(5, 64))).toEqual(Array.from(latentForSeed(5, 64)))
    expect(Array.from(latentForSeed(5, 64))).not.toEqual(Array.from(latentForSeed(6, 64)))
  })

  it('is self-contained, so its source can be embedded in an exported page', () => {
     
    const rebuilt = new Function(`return (${latentForSeed.toString()})`)() as typeof latentForSeed
    expect(Array.from(rebuilt(123, 33))).toEqual(Array.from(latentForSeed(123, 33)))
  })
})
