import { RunConfigSchema, type BackendName, type RunConfig } from '@shared/config'
import type { BackendStatus } from '@shared/contract'
import type { RunJson } from '@shared/runs'
import { familyCost, stepMacsPerImage } from '../trainer/model/families/costs'

/**
 * How long 1,000 steps of a configuration will take here. Past runs of the same shape on the same
 * backend are the best evidence (their run.json has training time and steps); without them, the
 * backend's calibration speed (a DCGAN-32 generator and discriminator, forward and backward, at
 * 64 channels) is scaled by what a step of this model family and shape costs per image (its
 * multiply–accumulates) and by the batch. Pure.
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
        (r.config.model.arch ?? 'dcgan') === config.model.arch &&
        r.config.preprocess.resolution === config.preprocess.resolution &&
        r.config.model.latentDim === config.model.latentDim &&
        r.config.model.mbstd === config.model.mbstd &&
        r.config.model.dNorm === config.model.dNorm &&
        r.config.batchSize === config.batchSize &&
        r.config.model.gChannels === config.model.gChannels &&
        r.config.model.dChannels === config.model.dChannels
    )
    .map((r) => r.trainingMs / r.step)
  if (similar.length > 0) return { msPer1000Steps: Math.round(median(similar) * 1000), backend }

  const status = backends.find((b) => b.name === backend)
  if (!status?.imagesPerSec || status.imagesPerSec <= 0) return { msPer1000Steps: null, backend }
  const imagesPerSec = (status.imagesPerSec * CALIBRATION_MACS) / stepMacsPerImage(config)
  const msPerStep = (config.batchSize / imagesPerSec) * 1000
  return { msPer1000Steps: Math.round(msPerStep * 1000), backend }
}

/** The calibration workload per image: a DCGAN-32 G (256-128-64) and D (64-128-256), each forward and backward. */
const CALIBRATION_MACS = (() => {
  const shape = RunConfigSchema.parse({
    source: '-',
    preprocess: { resolution: 32 },
    model: { arch: 'dcgan', latentDim: 128, gChannels: 64, dChannels: 64, mbstd: false, dNorm: 'none', gNorm: 'channel' }
  })
  const { generatorMacs, discriminatorMacs } = familyCost(shape)
  return 3 * (generatorMacs + discriminatorMacs)
})()

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
