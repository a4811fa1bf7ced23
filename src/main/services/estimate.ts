import type { BackendName, RunConfig } from '@shared/config'
import type { BackendStatus } from '@shared/contract'
import type { RunJson } from '@shared/runs'

/**
 * How long 1,000 steps of a configuration will take here. Past runs of the same shape on the same
 * backend are the best evidence (their run.json has training time and steps); without them, the
 * backend's calibration speed (DCGAN-32, batch 32, 64 channels, one G+D pass) is scaled by
 * resolution, width and batch. Pure.
 */
export function estimateMsPer1000Steps(
  config: RunConfig,
  backends: BackendStatus[],
  history: RunJson[]
): { msPer1000Steps: number | null; backend: BackendName | null } {
  const backend = pickBackend(config.backend, backends)
  if (!backend) return { msPer1000Steps: null, backend: null }

  const similar = history
    .filter(
      (r) =>
        r.backend?.used === backend &&
        r.step >= 20 &&
        r.trainingMs > 0 &&
        r.config.preprocess.resolution === config.preprocess.resolution &&
        r.config.batchSize === config.batchSize &&
        r.config.model.gChannels === config.model.gChannels &&
        r.config.model.dChannels === config.model.dChannels
    )
    .map((r) => r.trainingMs / r.step)
  if (similar.length > 0) return { msPer1000Steps: Math.round(median(similar) * 1000), backend }

  const status = backends.find((b) => b.name === backend)
  if (!status?.imagesPerSec || status.imagesPerSec <= 0) return { msPer1000Steps: null, backend }
  const res = config.preprocess.resolution / 32
  const width = (config.model.gChannels + config.model.dChannels) / 128
  // A training step is about two calibration passes (a D step and a G step); R1 adds a third on D.
  const passes = 2 + (config.loss.r1Gamma > 0 ? 1 / config.loss.r1Every : 0)
  const imagesPerSec = status.imagesPerSec / (res * res * width * width * passes)
  const msPerStep = (config.batchSize / imagesPerSec) * 1000
  return { msPer1000Steps: Math.round(msPerStep * 1000), backend }
}

/** The backend a request would use: an explicit one if available; `auto` → the fastest measured one (never cpu). */
export function pickBackend(request: RunConfig['backend'], backends: BackendStatus[]): BackendName | null {
  const available = backends.filter((b) => b.available)
  if (request !== 'auto') return available.some((b) => b.name === request) ? request : null
  // Unmeasured, `auto` has not decided yet (it measures when training starts).
  const measured = available
    .filter((b) => b.name !== 'cpu' && b.imagesPerSec !== null)
    .sort((a, b) => (b.imagesPerSec ?? 0) - (a.imagesPerSec ?? 0))
  return measured[0]?.name ?? null
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
