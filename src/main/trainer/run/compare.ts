import { StudioError } from '@shared/errors'
import type { CompareResult } from '@shared/contract'
import { qualityPoints, type MetricRecord, type RunJson, type SampleSnapshot } from '@shared/runs'
import { listSamples, readMetrics, readRun, summarizeRun } from './runs'

/**
 * Comparing 2 to 6 runs: the settings that differ (flattened to dotted keys), their metrics for an
 * overlaid chart, the fixed-seed sample grid nearest a chosen step in each (every run uses the
 * same grid seeds, so the grids compare image for image), and a summary table.
 */

export const MIN_COMPARE = 2
export const MAX_COMPARE = 6
/** Points per run sent for the overlay chart (evenly thinned, the last point always kept). */
export const MAX_METRIC_POINTS = 2000
/** Settings left out of the diff: the name labels each run anyway. */
const NOT_SETTINGS = new Set(['name'])

export interface CompareOptions {
  /** Step whose sample grids are shown; default the newest step every run has a grid for. */
  step?: number
  maxPoints?: number
}

/** `{ a: { b: 1 }, c: [1, 2] }` → `{ 'a.b': 1, c: [1, 2] }` (arrays are values, not branches). */
export function flattenConfig(value: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const key = prefix ? `${prefix}.${k}` : k
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenConfig(v, key))
      else out[key] = v
    }
  } else if (prefix) out[prefix] = value
  return out
}

/** Only the settings whose values are not all equal, in the order the settings are declared. */
export function configDiff(configs: readonly unknown[]): CompareResult['configDiff'] {
  const flat = configs.map((c) => flattenConfig(c))
  const keys: string[] = []
  const seen = new Set<string>()
  for (const f of flat)
    for (const k of Object.keys(f))
      if (!seen.has(k) && !NOT_SETTINGS.has(k)) {
        seen.add(k)
        keys.push(k)
      }
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
  return keys
    .map((key) => ({ key, values: flat.map((f) => (key in f ? f[key] : null)) }))
    .filter(({ values }) => values.some((v) => !same(v, values[0])))
}

/** Evenly thinned to at most `max` points, keeping the first and the last. */
export function thinMetrics(records: MetricRecord[], max: number): MetricRecord[] {
  if (records.length <= max) return records
  const out: MetricRecord[] = []
  const stride = (records.length - 1) / (max - 1)
  for (let i = 0; i < max; i++) out.push(records[Math.round(i * stride)]!)
  return out
}

/** The snapshot whose step is closest to `step` (the earlier one on a tie), or null. */
export function nearestSample(samples: readonly SampleSnapshot[], step: number): SampleSnapshot | null {
  let best: SampleSnapshot | null = null
  for (const s of samples) if (!best || Math.abs(s.step - step) < Math.abs(best.step - step)) best = s
  return best
}

function summaryOf(run: RunJson, metrics: MetricRecord[]): CompareResult['summary'][number] {
  const last = metrics[metrics.length - 1]
  const seconds = run.trainingMs / 1000
  return {
    id: run.id,
    name: run.name,
    steps: run.step,
    imagesSeen: run.imagesSeen,
    trainingMs: run.trainingMs,
    imagesPerSec: seconds > 0 && run.imagesSeen > 0 ? Math.round((run.imagesSeen / seconds) * 10) / 10 : null,
    finalGLoss: last ? last.gLoss : null,
    finalDLoss: last ? last.dLoss : null,
    quality: qualityPoints(metrics).at(-1) ?? null
  }
}

export async function compareRuns(runDirs: string[], opts: CompareOptions = {}): Promise<CompareResult> {
  if (runDirs.length < MIN_COMPARE || runDirs.length > MAX_COMPARE)
    throw new StudioError('bad-input', `Compare takes ${MIN_COMPARE} to ${MAX_COMPARE} runs (got ${runDirs.length}).`)
  const loaded = await Promise.all(
    runDirs.map(async (dir) => {
      const run = await readRun(dir)
      const [metrics, samples] = await Promise.all([readMetrics(dir), listSamples(dir, run.id)])
      return { dir, run, metrics, samples }
    })
  )
  const lastSampleSteps = loaded.map((l) => l.samples[l.samples.length - 1]?.step ?? 0)
  const step = opts.step ?? Math.min(...lastSampleSteps)
  const maxPoints = Math.max(2, opts.maxPoints ?? MAX_METRIC_POINTS)
  return {
    runs: loaded.map((l) => summarizeRun(l.dir, l.run, l.samples)),
    step,
    configDiff: configDiff(loaded.map((l) => l.run.config)),
    metrics: loaded.map((l) => thinMetrics(l.metrics, maxPoints)),
    quality: loaded.map((l) => qualityPoints(l.metrics)),
    sampleSteps: loaded.map((l) => l.samples.map((s) => s.step)),
    grids: loaded.map((l) => {
      const s = nearestSample(l.samples, step)
      return s ? { step: s.step, file: s.file } : null
    }),
    summary: loaded.map((l) => summaryOf(l.run, l.metrics))
  }
}
