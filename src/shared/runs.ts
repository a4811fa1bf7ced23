import type { BackendName, BackendRequest, RunConfig } from './config'
import type { DatasetSummary } from './datasets'
import type { StudioErrorShape } from './errors'

export const RUN_STATUSES = ['running', 'paused', 'stopped', 'completed', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export interface PassedOver {
  name: BackendName
  reason: string
}

export interface BackendRecord {
  requested: BackendRequest
  used: BackendName
  /** Why each other backend was not used, e.g. "tensorflow: @tensorflow/tfjs-node-gpu is not installed". */
  passedOver: PassedOver[]
}

/** Where a fine-tuned run started: another run's checkpoint (its weights are copied into this run's folder). */
export interface FineTunedFrom {
  /** The base run's id and name when the fine-tune began (the base may since be renamed, moved or deleted). */
  run: string
  name: string
  /** The base checkpoint's step and folder name. */
  step: number
  checkpoint: string
}

/** `<home>/runs/<id>/run.json` — the source of truth for a run. Written atomically. */
export interface RunJson {
  formatVersion: 1
  id: string
  name: string
  createdAt: string
  updatedAt: string
  appVersion: string
  config: RunConfig
  dataset: DatasetSummary
  backend: BackendRecord | null
  status: RunStatus
  /** Steps completed (the newest checkpoint may be older; see latestCheckpoint). */
  step: number
  imagesSeen: number
  /** Training wall time summed over sessions, in ms. */
  trainingMs: number
  /** Checkpoint folder name under checkpoints/, or null before the first one. */
  latestCheckpoint: string | null
  latestCheckpointStep: number
  error: StudioErrorShape | null
  tags: string[]
  note: string
  /** The process training the run while `status` is `running` (absent in runs written before it existed). */
  owner?: { pid: number; host: string } | null
  /** Set when the run started from another run's weights instead of from scratch. */
  fineTunedFrom?: FineTunedFrom | null
}

/** One line of metrics.jsonl. */
export interface MetricRecord {
  step: number
  /** ms of training time since the run began. */
  t: number
  imagesSeen: number
  gLoss: number
  dLoss: number
  /** Mean D output (logit) on real and on generated images. */
  dReal: number
  dFake: number
  r1?: number
  imagesPerSec: number
  /** Present on the steps where the quality meter ran (see QualityScores). */
  quality?: QualityScores
}

/**
 * How good the generated images are, measured without downloaded networks on the EMA generator's
 * fixed seeds. `swd`: sliced Wasserstein distance on Laplacian-pyramid patches (×1000, lower is
 * better). `kid`: kernel distance between random-network features (lower is better, ~0 at best).
 * `variety`: spread of the generated images ÷ spread of the real ones (≈1 healthy, near 0 collapse).
 * `memorisation`: distance to the nearest training image ÷ the typical distance between training
 * images (near 0: copies). null where it cannot be measured (fewer than two images).
 */
export interface QualityScores {
  swd: number
  kid: number
  variety: number | null
  memorisation: number | null
  /** How many generated images were scored. */
  count: number
}

/** One quality measurement of a run, where it happened. */
export interface QualityPoint extends QualityScores {
  step: number
  imagesSeen: number
}

/** The quality records of a run's metrics, in order. */
export function qualityPoints(records: readonly MetricRecord[]): QualityPoint[] {
  const out: QualityPoint[] = []
  for (const r of records) if (r.quality) out.push({ ...r.quality, step: r.step, imagesSeen: r.imagesSeen })
  return out
}

export interface RunSummary {
  id: string
  name: string
  dir: string
  status: RunStatus
  step: number
  steps: number
  createdAt: string
  updatedAt: string
  datasetName: string
  resolution: number
  backend: BackendName | null
  /** Newest sample grid as a path relative to the run folder, if any. */
  thumbnail: string | null
  /** True when the run stopped without finishing (crash, stop, pause) and has a checkpoint. */
  resumable: boolean
  tags: string[]
  note: string
  error: StudioErrorShape | null
  /**
   * Set when the run folder cannot be read as a whole (run.json missing, truncated or invalid):
   * why, and what can be recovered (e.g. "3 good checkpoints: resume will rebuild run.json").
   */
  damaged?: { reason: string; recovery: string } | null
}

export interface SampleSnapshot {
  runId: string
  step: number
  /** Path relative to the run folder, e.g. `samples/step-000100.png`. */
  file: string
}

export function sampleFileName(step: number): string {
  return `samples/step-${String(step).padStart(6, '0')}.png`
}
