/**
 * Statistics for benchmark rounds: medians, spreads and whether a ratio means anything.
 *
 * A round is one timed window of each engine, back to back; the ratio of a round is ours ÷ theirs
 * from the same round, so a machine that slows down for a while slows both sides of that ratio.
 * The spread is the range over rounds (min to max), which is what a reader who runs the bench
 * again should expect to land in.
 */

export interface Summary {
  n: number
  median: number
  min: number
  max: number
  /** Half the range relative to the median: 0.05 means "median ± 5%". */
  relSpread: number
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values')
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) throw new Error('no finite values to summarize')
  const med = median(finite)
  const min = Math.min(...finite)
  const max = Math.max(...finite)
  return { n: finite.length, median: med, min, max, relSpread: med > 0 ? (max - min) / 2 / med : Infinity }
}

/** Per-round ratios a[i] / b[i] of paired rounds. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`paired rounds differ in count (${a.length} vs ${b.length})`)
  return a.map((x, i) => x / b[i]!)
}

export interface RatioVerdict {
  /** The ratio's summary over rounds (null with fewer than one round). */
  summary: Summary | null
  /** Whether the ratio may be printed as a figure. */
  meaningful: boolean
  /** Why not, in a sentence, when it may not. */
  reason: string | null
}

export const MIN_ROUNDS = 3

/**
 * The ratio of two engines over paired rounds, or why it says nothing: too few rounds, or the
 * ratio (or either engine) moved by more than `maxRelSpread` either side of its median, so a rerun
 * could land anywhere in a range too wide to support the figure.
 */
export function ratioVerdict(ours: readonly number[], theirs: readonly number[], maxRelSpread: number): RatioVerdict {
  if (ours.length === 0) return { summary: null, meaningful: false, reason: 'no rounds were timed' }
  const summary = summarize(pairedRatios(ours, theirs))
  if (summary.n < MIN_ROUNDS) return { summary, meaningful: false, reason: `only ${summary.n} round${summary.n === 1 ? '' : 's'} (at least ${MIN_ROUNDS} are needed)` }
  const pct = (x: number) => `±${(x * 100).toFixed(0)}%`
  const limit = pct(maxRelSpread)
  if (summary.relSpread > maxRelSpread) return { summary, meaningful: false, reason: `the ratio varied ${pct(summary.relSpread)} across rounds (limit ${limit})` }
  const o = summarize(ours)
  const t = summarize(theirs)
  if (o.relSpread > 2 * maxRelSpread || t.relSpread > 2 * maxRelSpread) {
    const which = o.relSpread >= t.relSpread ? `ours varied ${pct(o.relSpread)}` : `the reference varied ${pct(t.relSpread)}`
    return { summary, meaningful: false, reason: `${which} across rounds (limit ${pct(2 * maxRelSpread)} per engine)` }
  }
  return { summary, meaningful: true, reason: null }
}

/** "85.2 (80.1–90.3, ±6%)" */
export function formatSummary(s: Summary, digits = 1): string {
  const f = (x: number) => x.toFixed(digits)
  return `${f(s.median)} (${f(s.min)}–${f(s.max)}, ±${(s.relSpread * 100).toFixed(0)}%)`
}
