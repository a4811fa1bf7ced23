import { describe, expect, it } from 'vitest'
import { forEachConcurrent, withLock } from '../../../src/main/util/concurrency'

const tick = (ms = 1): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('forEachConcurrent', () => {
  it('calls every index once, never more than `concurrency` at a time, each lane with its own value', async () => {
    let inFlight = 0
    let most = 0
    const seen: number[] = []
    let lanes = 0
    const laneOf = new Map<number, number>()
    await forEachConcurrent(
      20,
      3,
      () => ++lanes,
      async (i, lane) => {
        inFlight++
        most = Math.max(most, inFlight)
        laneOf.set(i, lane)
        await tick(i % 3)
        seen.push(i)
        inFlight--
      }
    )
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(most).toBe(3)
    expect(lanes).toBe(3)
    expect(new Set(laneOf.values())).toEqual(new Set([1, 2, 3]))
  })

  it('stops starting calls after the first failure and throws it', async () => {
    const started: number[] = []
    const failure = new Error('file 2 broke')
    await expect(
      forEachConcurrent(50, 2, () => null, async (i) => {
        started.push(i)
        await tick()
        if (i === 2) throw failure
      })
    ).rejects.toBe(failure)
    expect(started.length).toBeLessThan(10)
  })

  it('throws what isStopped returns, before starting more', async () => {
    const stop = new Error('cancelled')
    let calls = 0
    await expect(forEachConcurrent(10, 2, () => null, async () => void calls++, () => (calls >= 4 ? stop : null))).rejects.toBe(stop)
    expect(calls).toBe(4)
  })
})

describe('withLock', () => {
  it('runs calls with the same key one after another, other keys alongside, and survives a failure', async () => {
    const log: string[] = []
    const job = (key: string, name: string, ms: number, fail = false) =>
      withLock(key, async () => {
        log.push(`${name} start`)
        await tick(ms)
        log.push(`${name} end`)
        if (fail) throw new Error(name)
        return name
      })
    const results = await Promise.allSettled([job('a', 'a1', 20, true), job('a', 'a2', 1), job('b', 'b1', 5)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(log.indexOf('a2 start')).toBeGreaterThan(log.indexOf('a1 end'))
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'))
  })
})
