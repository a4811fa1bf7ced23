import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../../../../src/main/trainer/tf/memory'

describe('collectGarbage', () => {
  it('runs a full GC without --expose-gc and frees unreachable memory', () => {
    expect(collectGarbage()).toBe(true)
    const before = process.memoryUsage().heapUsed
    let garbage: number[][] | null = Array.from({ length: 200 }, () => Array.from({ length: 5000 }, (_, i) => i))
    expect(process.memoryUsage().heapUsed).toBeGreaterThan(before + 4_000_000)
    garbage = null
    expect(garbage).toBeNull()
    expect(collectGarbage()).toBe(true)
    expect(process.memoryUsage().heapUsed).toBeLessThan(before + 2_000_000)
  })
})
