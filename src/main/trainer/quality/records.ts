import type { MetricRecord, QualityScores } from '@shared/runs'
import { readMetrics } from '../run/runs'

/** The newest quality record of a run's metrics, with its step; null when none was measured. */
export function latestQuality(metrics: readonly MetricRecord[]): (QualityScores & { step: number }) | null {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const m = metrics[i]!
    if (m.quality) return { ...m.quality, step: m.step }
  }
  return null
}

/** The newest quality record in a run folder's metrics.jsonl (null for runs without any). */
export async function readLatestQuality(runDir: string): Promise<(QualityScores & { step: number }) | null> {
  return latestQuality(await readMetrics(runDir))
}
