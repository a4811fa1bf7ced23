import { lowerBound, upperBound } from './buffer'

export interface Point {
  x: number
  y: number
}

/**
 * The index range [start, end) of points to draw for an x window: the points inside it plus one
 * neighbour on each side, so lines run to the edges of the plot instead of stopping short.
 */
export function visibleSlice(
  xs: ArrayLike<number>,
  length: number,
  min: number | null,
  max: number | null
): [number, number] {
  let start = min === null ? 0 : lowerBound(xs, length, min)
  let end = max === null ? length : upperBound(xs, length, max)
  if (start > 0) start -= 1
  if (end < length) end += 1
  return [start, end]
}

/**
 * Largest-Triangle-Three-Buckets downsampling of xs/ys over [start, end) to at most `threshold`
 * points. Keeps the first and last points and, per bucket, the point that best preserves the
 * shape (spikes survive, unlike averaging). Non-finite ys are skipped.
 */
export function lttb(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  start: number,
  end: number,
  threshold: number
): Point[] {
  const n = end - start
  if (n <= 0) return []
  if (threshold >= n || threshold < 3) return finitePoints(xs, ys, start, end)

  // Anchor on the first and last finite points.
  let first = start
  while (first < end && !Number.isFinite(ys[first]!)) first++
  let last = end - 1
  while (last > first && !Number.isFinite(ys[last]!)) last--
  if (first >= end) return []
  if (last - first + 1 <= threshold) return finitePoints(xs, ys, first, last + 1)

  const out: Point[] = [{ x: xs[first]!, y: ys[first]! }]
  const inner = last - first - 1
  const every = inner / (threshold - 2)
  let a = first

  for (let b = 0; b < threshold - 2; b++) {
    const bucketStart = first + 1 + Math.floor(b * every)
    const bucketEnd = Math.min(last, first + 1 + Math.floor((b + 1) * every))

    // Average of the next bucket (or the last point for the final bucket).
    const nextStart = bucketEnd
    const nextEnd = Math.min(last + 1, first + 1 + Math.floor((b + 2) * every))
    let avgX = 0
    let avgY = 0
    let count = 0
    for (let j = nextStart; j < nextEnd; j++) {
      const y = ys[j]!
      if (!Number.isFinite(y)) continue
      avgX += xs[j]!
      avgY += y
      count++
    }
    if (count === 0) {
      avgX = xs[last]!
      avgY = ys[last]!
    } else {
      avgX /= count
      avgY /= count
    }

    const ax = xs[a]!
    const ay = ys[a]!
    let best = -1
    let bestArea = -1
    for (let j = bucketStart; j < bucketEnd; j++) {
      const y = ys[j]!
      if (!Number.isFinite(y)) continue
      const area = Math.abs((ax - avgX) * (y - ay) - (ax - xs[j]!) * (avgY - ay))
      if (area > bestArea) {
        bestArea = area
        best = j
      }
    }
    if (best >= 0) {
      out.push({ x: xs[best]!, y: ys[best]! })
      a = best
    }
  }
  out.push({ x: xs[last]!, y: ys[last]! })
  return out
}

function finitePoints(xs: ArrayLike<number>, ys: ArrayLike<number>, start: number, end: number): Point[] {
  const out: Point[] = []
  for (let i = start; i < end; i++) {
    const y = ys[i]!
    if (Number.isFinite(y)) out.push({ x: xs[i]!, y })
  }
  return out
}

/** The points to draw for one series in an x window, at most `threshold` of them. */
export function pointsForWindow(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  length: number,
  window: { min: number; max: number } | null,
  threshold: number
): Point[] {
  const [start, end] = visibleSlice(xs, length, window?.min ?? null, window?.max ?? null)
  return lttb(xs, ys, start, end, threshold)
}
