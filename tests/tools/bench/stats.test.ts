import { describe, expect, it } from 'vitest'
import { formatSummary, median, pairedRatios, ratioVerdict, summarize } from '../../../tools/bench/stats'

describe('bench statistics', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const values = [5, 1, 3]
    expect(median(values)).toBe(3)
    expect(values).toEqual([5, 1, 3])
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(() => median([])).toThrow(/no values/)
  })

  it('summarises the range as a spread around the median', () => {
    const s = summarize([90, 100, 110, 104])
    expect(s).toMatchObject({ n: 4, median: 102, min: 90, max: 110 })
    expect(s.relSpread).toBeCloseTo(10 / 102, 10)
    expect(formatSummary(s)).toBe('102.0 (90.0–110.0, ±10%)')
    expect(summarize([1, NaN, 3]).n).toBe(2)
  })

  it('pairs rounds for ratios and refuses unpaired lists', () => {
    expect(pairedRatios([2, 3], [4, 6])).toEqual([0.5, 0.5])
    expect(() => pairedRatios([1, 2], [1])).toThrow(/differ/)
  })

  it('prints a ratio only with enough rounds and a narrow spread', () => {
    const steady = ratioVerdict([100, 102, 98, 101], [80, 81, 79, 80], 0.1)
    expect(steady.meaningful).toBe(true)
    // Per-round ratios 1.25, 1.2593, 1.2405, 1.2625: the median of those, not of the medians.
    expect(steady.summary!.median).toBeCloseTo((100 / 80 + 102 / 81) / 2, 10)

    const few = ratioVerdict([100, 101], [80, 80], 0.1)
    expect(few.meaningful).toBe(false)
    expect(few.reason).toMatch(/only 2 rounds/)

    const noisy = ratioVerdict([100, 60, 100, 140], [80, 80, 80, 80], 0.1)
    expect(noisy.meaningful).toBe(false)
    expect(noisy.reason).toMatch(/ratio varied ±40% .*limit ±10%/)

    // Both engines slowed together: the ratio is steady, but one engine moved too far to trust.
    const drift = ratioVerdict([100, 50, 100], [80, 40, 80], 0.1)
    expect(drift.meaningful).toBe(false)
    expect(drift.reason).toMatch(/ours varied ±25%/)

    expect(ratioVerdict([], [], 0.1)).toMatchObject({ meaningful: false, summary: null })
  })
})
