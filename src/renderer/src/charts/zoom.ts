/** An x-axis window in steps. */
export interface XRange {
  min: number
  max: number
}

/** The narrowest window a person can zoom to, in steps. */
export const MIN_SPAN = 4

/** Keeps a window inside the data's bounds and at least `minSpan` wide. */
export function clampRange(range: XRange, bounds: XRange, minSpan = MIN_SPAN): XRange {
  const full = bounds.max - bounds.min
  const span = Math.min(Math.max(range.max - range.min, Math.min(minSpan, full)), full)
  let min = range.min
  if (min < bounds.min) min = bounds.min
  if (min + span > bounds.max) min = bounds.max - span
  return { min, max: min + span }
}

/** Zooms by `factor` (< 1 zooms in) keeping the value under the pointer where it is. */
export function zoomAround(range: XRange, center: number, factor: number, bounds: XRange, minSpan = MIN_SPAN): XRange {
  const c = Math.min(Math.max(center, range.min), range.max)
  const next = { min: c - (c - range.min) * factor, max: c + (range.max - c) * factor }
  return clampRange(next, bounds, minSpan)
}

/** Moves the window by `delta` steps without leaving the data. */
export function panBy(range: XRange, delta: number, bounds: XRange): XRange {
  return clampRange({ min: range.min + delta, max: range.max + delta }, bounds, 0)
}

/** True when the window shows (nearly) all the data, so it can be dropped in favour of "follow". */
export function coversAll(range: XRange, bounds: XRange): boolean {
  const span = bounds.max - bounds.min
  const eps = Math.max(1e-9, span * 1e-6)
  return range.min <= bounds.min + eps && range.max >= bounds.max - eps
}

/** A dragged selection between two x values, or null when it is too narrow to mean a zoom. */
export function rangeFromDrag(a: number, b: number, bounds: XRange, minSpan = MIN_SPAN): XRange | null {
  const min = Math.min(a, b)
  const max = Math.max(a, b)
  if (max - min < Math.min(minSpan, (bounds.max - bounds.min) / 1000)) return null
  return clampRange({ min, max }, bounds, minSpan)
}
