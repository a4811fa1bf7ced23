import { z } from 'zod'
import { PreprocessSchema, RunConfigSchema, SeedSchema, StepsSchema, type BackendName } from './config'
import type { FavoritesFile } from './collections'
import { directionRequestSchemas, type DirectionsInfo, type SavedDirection } from './directions'
import type { DatasetSummary, ImportProgress } from './datasets'
import type { StudioErrorShape } from './errors'
import type { MetricRecord, QualityPoint, RunJson, RunStatus, RunSummary, SampleSnapshot } from './runs'

/**
 * The one contract between the studio UI and the main side (Electron IPC or `gan-studio serve`).
 * Requests are answered once; events are pushed. Every request's params have a runtime schema
 * (the UI is untrusted); the TypeScript types are inferred from those schemas.
 */

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a run or dataset id')
const absPath = z.string().min(1).max(4096)
const empty = z.object({}).strict()
const seed = SeedSchema
const checkpointName = z.string().regex(/^step-\d{6,}$/, 'must be a checkpoint name (step-NNNNNN)')
const collectionName = z.string().trim().min(1).max(80)
const latent = z.array(z.number().finite().min(-1e4).max(1e4)).min(1).max(512)
const collectionItem = z.union([
  z.object({ seed, label: z.string().max(200).optional() }).strict(),
  z.object({ latent, label: z.string().max(200).optional() }).strict()
])

export const requestSchemas = {
  'app.info': empty,

  'fs.listDir': z.object({ path: absPath.optional() }).strict(),
  'dialog.pickFolder': empty,

  'datasets.list': empty,
  'datasets.preview': z
    .object({ source: absPath, preprocess: PreprocessSchema, limit: z.number().int().min(1).max(64).default(12) })
    .strict(),
  'datasets.import': z.object({ source: absPath, preprocess: PreprocessSchema }).strict(),
  'datasets.images': z
    .object({ id, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(256).default(64) })
    .strict(),
  'datasets.delete': z.object({ id }).strict(),

  'backends.list': empty,
  'runs.estimate': z.object({ config: RunConfigSchema }).strict(),
  'runs.list': empty,
  'runs.get': z.object({ id }).strict(),
  'runs.metrics': z.object({ id, sinceStep: z.number().int().min(-1).default(-1) }).strict(),
  'runs.samples': z.object({ id }).strict(),
  'runs.start': z
    .object({
      config: RunConfigSchema,
      /** Fine-tune: start from this run's weights (its newest good checkpoint unless one is named). */
      from: z.object({ id, checkpoint: checkpointName.optional() }).strict().optional()
    })
    .strict(),
  'runs.pause': z.object({ id }).strict(),
  'runs.resume': z.object({ id, steps: StepsSchema.optional() }).strict(),
  'runs.stop': z.object({ id }).strict(),
  'runs.rename': z.object({ id, name: z.string().trim().min(1).max(120) }).strict(),
  'runs.update': z
    .object({ id, tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(), note: z.string().max(4000).optional() })
    .strict(),
  'runs.delete': z.object({ id }).strict(),
  'runs.openFolder': z.object({ id }).strict(),

  'generate.checkpoints': z.object({ id }).strict(),
  'generate.images': z
    .object({
      id,
      checkpoint: checkpointName.optional(),
      seeds: z.array(seed).min(1).max(256),
      /** Truncation ψ: z' = ψ·z (the prior's mean is 0). */
      truncation: z.number().min(0).max(2).default(1),
      upscale: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1),
      sheet: z.boolean().default(false),
      /** Write PNGs under the run's `exports/<collection>/…`; otherwise answer with data URLs only. */
      save: z.boolean().default(false),
      collection: z.enum(['images', 'favorites']).default('images')
    })
    .strict(),
  'generate.walk': z
    .object({
      id,
      checkpoint: checkpointName.optional(),
      /** Keyframe seeds with equal shares of the time; or `keyframes` with their own timing. */
      seeds: z.array(seed).min(2).max(32).optional(),
      keyframes: z
        .array(
          z
            .object({
              seed: seed.optional(),
              latent: latent.optional(),
              /** Seconds from this keyframe to the next (the last: back to the first). */
              seconds: z.number().gt(0).max(600).optional(),
              easing: z.enum(['ease-in-out', 'linear', 'ease-in', 'ease-out']).optional()
            })
            .strict()
            .refine((k) => (k.seed === undefined) !== (k.latent === undefined), 'each keyframe is a seed or a latent')
        )
        .min(2)
        .max(64)
        .optional(),
      easing: z.enum(['ease-in-out', 'linear', 'ease-in', 'ease-out']).default('ease-in-out'),
      /** Whole walk; with keyframes, shared by those that name no duration (default 4 with seeds). */
      seconds: z.number().min(0.5).max(120).optional(),
      fps: z.number().int().min(1).max(60).default(24),
      format: z.enum(['gif', 'webp', 'png']).default('gif'),
      truncation: z.number().min(0).max(2).default(1),
      upscale: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1),
      /** Chosen by the caller so it can match the `jobs.progress` events of this walk. */
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict()
    .refine((p) => (p.seeds === undefined) !== (p.keyframes === undefined), 'give keyframe seeds or keyframes'),
  /** Reads the run's starred seeds, or replaces them when `seeds` is given. */
  'generate.favorites': z.object({ id, seeds: z.array(seed).max(1000).optional() }).strict(),
  'export.model': z.object({ id, checkpoint: checkpointName.optional() }).strict(),
  /** Cancels a running job (a walk, an export, variations…) by the jobId its caller gave it. */
  'jobs.cancel': z.object({ jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }).strict(),
  'compare.runs': z
    .object({ ids: z.array(id).min(2).max(6), step: z.number().int().min(0).optional() })
    .strict(),
  /** The training images nearest one generated image of a run (see NearestImagesResult). */
  'quality.nearest': z
    .object({
      id,
      image: z.union([
        /** Tile `index` of the run's sample grid at `step`. */
        z.object({ step: z.number().int().min(0), index: z.number().int().min(0).max(63) }).strict(),
        /** A PNG the studio saved under the run's exports/ (path relative to the run folder). */
        z.object({ file: z.string().min(1).max(1024).regex(/^exports\/.+\.png$/, 'must be a PNG under exports/') }).strict(),
        /** A generated image as a PNG data URL (an unsaved preview). */
        z.object({ png: z.string().max(8_000_000).startsWith('data:image/png;base64,', 'must be a PNG data URL') }).strict()
      ]),
      count: z.number().int().min(1).max(8).default(3)
    })
    .strict(),
  /** The run's sample grids (or one cell of them), oldest first, as an animated file under exports/timelapse/. */
  'explore.timelapse': z
    .object({
      id,
      cell: z.number().int().min(0).max(63).optional(),
      format: z.enum(['gif', 'webp']).default('gif'),
      fps: z.number().min(0.5).max(60).default(6),
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict(),
  /** The run's starred seeds and named collections (stored in its folder). */
  'explore.collections': z.object({ id }).strict(),
  /** One change to a collection; answers with every collection as stored. */
  'explore.collection': z
    .object({
      id,
      action: z.enum(['create', 'rename', 'delete', 'add', 'remove']),
      name: collectionName,
      /** rename: the new name. */
      newName: collectionName.optional(),
      /** add: seeds and latents. */
      items: z.array(collectionItem).min(1).max(256).optional(),
      /** add: make the collection when there is none of that name. */
      create: z.boolean().default(false),
      /** remove: the items' ids. */
      itemIds: z.array(z.string().min(1).max(64)).min(1).max(1000).optional()
    })
    .strict()
    .superRefine((p, ctx) => {
      const need = { rename: 'newName', add: 'items', remove: 'itemIds' } as const
      const field = need[p.action as keyof typeof need]
      if (field && p[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is required to ${p.action}` })
    }),
  /**
   * "Find my image": the latent whose image is closest to a picture (a dropped image as a data URL,
   * or an image of the run's dataset by index). Progress goes out as `explore.findProgress` under jobId.
   */
  'explore.find': z
    .object({
      id,
      checkpoint: checkpointName.optional(),
      image: z.union([
        z.object({ dataUrl: z.string().max(8_000_000).regex(/^data:image\/[\w.+-]+;base64,/, 'must be an image data URL'), name: z.string().max(255).optional() }).strict(),
        z.object({ datasetImage: z.number().int().min(0) }).strict()
      ]),
      steps: z.number().int().min(10).max(2000).default(200),
      starts: z.number().int().min(1).max(16).default(6),
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict(),
  /** Images (data URLs, training resolution) for seeds and stored latents. */
  'explore.render': z
    .object({
      id,
      checkpoint: checkpointName.optional(),
      items: z.array(z.union([z.object({ seed }).strict(), z.object({ latent }).strict()])).min(1).max(256),
      truncation: z.number().min(0).max(2).default(1),
      /** Names the job for `jobs.cancel`. */
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict(),
  /** A centre image (a seed or a latent) and neighbours around its latent; nothing is written. */
  'explore.variations': z
    .object({
      id,
      checkpoint: checkpointName.optional(),
      center: z.union([z.object({ seed }).strict(), z.object({ latent }).strict()]),
      /** 0: the centre itself; 1: unrelated images. */
      strength: z.number().min(0).max(1).default(0.3),
      count: z.number().int().min(1).max(24).default(8),
      variationSeed: seed.default(0),
      truncation: z.number().min(0).max(2).default(1),
      /** Names the job for `jobs.cancel`. */
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict(),
  /** Writes every item of a collection as PNGs under the run's exports/collections/. */
  'explore.exportCollection': z
    .object({
      id,
      name: collectionName,
      checkpoint: checkpointName.optional(),
      truncation: z.number().min(0).max(2).default(1),
      upscale: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1),
      /** Progress goes out as `jobs.progress` (kind `export`) under this id; names the job for `jobs.cancel`. */
      jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional()
    })
    .strict(),
  /** Directions (sliders): a run's principal directions and its saved ones (src/shared/directions.ts). */
  ...directionRequestSchemas
} as const

export type RequestName = keyof typeof requestSchemas
export type RequestParams<K extends RequestName> = z.input<(typeof requestSchemas)[K]>
export type ParsedParams<K extends RequestName> = z.output<(typeof requestSchemas)[K]>

export interface BackendStatus {
  name: BackendName
  available: boolean
  /** Why it is not available, in words a person can act on. */
  reason: string | null
  /** Measured images/s from the last calibration, when known. */
  imagesPerSec: number | null
}

export interface DirEntry {
  name: string
  path: string
  isDir: boolean
}

export interface RunDetail {
  run: RunJson
  summary: RunSummary
  samples: SampleSnapshot[]
}

export interface GeneratedImage {
  seed: number
  /** Path relative to the run folder when saved, else a data: URL. */
  url: string
  file: string | null
}

export interface CheckpointInfo {
  /** Folder name, e.g. `step-000500`. */
  name: string
  step: number
}

export interface CompareResult {
  runs: RunSummary[]
  /** The step the grids were chosen for (default: the newest step every run has a grid for). */
  step: number
  /** Only settings that differ: dotted path → value per run (same order as runs). */
  configDiff: { key: string; values: unknown[] }[]
  /** Per run, thinned to at most 2,000 points for the overlay (align by `step` or `imagesSeen`). */
  metrics: MetricRecord[][]
  /** Per run, every quality measurement (not thinned; empty for runs without any). */
  quality: QualityPoint[][]
  /** Steps that have a sample grid, per run (for a step slider). */
  sampleSteps: number[][]
  /** Sample grid (relative to each run folder) nearest the chosen step, per run. */
  grids: ({ step: number; file: string } | null)[]
  summary: {
    id: string
    name: string
    steps: number
    imagesSeen: number
    trainingMs: number
    imagesPerSec: number | null
    finalGLoss: number | null
    finalDLoss: number | null
    /** The newest quality measurement, if any. */
    quality: QualityPoint | null
  }[]
}

export interface NearestMatch {
  /** Index of the image in the run's dataset, and its file (relative to the source folder) when known. */
  image: number
  file: string | null
  /** PNG data URL of the training image as it was trained on (mirrored when the match is its mirror image). */
  url: string
  mirrored: boolean
  /** RMS difference at 16 × 16 px, in [-1, 1] units. */
  distance: number
}

export interface NearestImagesResult {
  /** The generated image as it was compared (training resolution), a PNG data URL. */
  query: string
  matches: NearestMatch[]
  /** The typical distance from a training image to its nearest other one: a match far below it is a near copy. */
  typicalDistance: number | null
  datasetName: string
}

export interface Results {
  'app.info': { version: string; home: string; mode: 'desktop' | 'browser'; platform: string }
  /** Sub-folders only (hidden ones left out); `imageCount`: image files directly in `path`. */
  'fs.listDir': { path: string; parent: string | null; entries: DirEntry[]; imageCount: number }
  'dialog.pickFolder': { path: string | null }
  'datasets.list': DatasetSummary[]
  'datasets.preview': { images: string[]; found: number }
  'datasets.import': DatasetSummary
  'datasets.images': { total: number; images: string[] }
  'datasets.delete': { ok: true }
  'backends.list': BackendStatus[]
  'runs.estimate': { msPer1000Steps: number | null; backend: BackendName | null }
  'runs.list': RunSummary[]
  'runs.get': RunDetail
  'runs.metrics': MetricRecord[]
  'runs.samples': SampleSnapshot[]
  'runs.start': RunSummary
  'runs.pause': RunSummary
  'runs.resume': RunSummary
  'runs.stop': RunSummary
  'runs.rename': RunSummary
  'runs.update': RunSummary
  'runs.delete': { ok: true }
  'runs.openFolder': { path: string }
  'generate.checkpoints': CheckpointInfo[]
  /** `sheet` like an image's url; `dir` relative to the run folder when saved. */
  'generate.images': { images: GeneratedImage[]; sheet: string | null; dir: string | null; checkpoint: string; step: number }
  /** `file` relative to the run folder (a folder of frames for png). */
  'generate.walk': { file: string; frames: number }
  'generate.favorites': { seeds: number[] }
  /** `dir`: the export folder on the studio machine; `page`: its index.html relative to the run folder. */
  'export.model': { dir: string; page: string; checkpoint: string; step: number }
  /** false when no job of that id was running (it had already finished). */
  'jobs.cancel': { cancelled: boolean }
  /** `file` relative to the run folder; `steps`: the training step of each frame, in order. */
  'explore.timelapse': { file: string; frames: number; steps: number[] }
  'explore.collections': FavoritesFile
  'explore.render': { images: string[]; checkpoint: string; step: number }
  /** Latents before ψ; images as data URLs. */
  'explore.variations': { center: { latent: number[]; image: string }; neighbours: { latent: number[]; image: string }[]; checkpoint: string; step: number }
  'explore.collection': FavoritesFile
  /** Latent before ψ; images as data URLs (the target as compared: preprocessed like the run's dataset). */
  'explore.find': FindResult
  /** `dir` relative to the run folder. */
  'explore.exportCollection': { dir: string; count: number; checkpoint: string; step: number }
  'compare.runs': CompareResult
  'quality.nearest': NearestImagesResult
  'directions.components': DirectionsInfo
  'directions.saved': SavedDirection[]
  'directions.edit': SavedDirection[]
}

/** Requests: renderer → main, answered once. */
export type Requests = { [K in RequestName]: { params: RequestParams<K>; result: Results[K] } }

export interface TrainProgress {
  runId: string
  step: number
  steps: number
  imagesPerSec: number
  etaMs: number | null
  metric: MetricRecord | null
}

export interface LogLine {
  runId: string | null
  level: 'info' | 'warn' | 'error'
  message: string
  time: string
}

export interface JobProgress {
  jobId: string
  kind: 'import' | 'walk' | 'export' | 'generate' | 'timelapse' | 'directions'
  done: number
  total: number
  label: string
}

export interface FindResult {
  latent: number[]
  image: string
  target: string
  targetLabel: string
  /** dB at the training resolution. */
  psnr: number
  /** Multi-scale distance to the target (0 identical … 1), and the same for a typical random image. */
  distance: number
  baseline: number
  verdict: 'close' | 'rough' | 'none'
  summary: string
  steps: number
  starts: number
  checkpoint: string
  step: number
  ms: number
}

export interface FindProgress {
  jobId: string
  phase: 'screen' | 'explore' | 'refine' | 'done'
  done: number
  total: number
  /** Best loss so far (lower is closer). */
  loss: number | null
  /** PNG data URL of the best match now, on some events only. */
  preview: string | null
  /** PNG data URL of the image as it is compared (preprocessed like the run's dataset), on the first event only. */
  target?: string
}

/** Events: main → renderer, pushed. */
export interface Events {
  'train.progress': TrainProgress
  'train.sample': SampleSnapshot
  'train.status': { runId: string; status: RunStatus; error: StudioErrorShape | null }
  'train.log': LogLine
  'datasets.progress': ImportProgress & { source: string }
  'jobs.progress': JobProgress
  'explore.findProgress': FindProgress
}
export type EventName = keyof Events

/** What a request resolves to on the wire. */
export type Reply<K extends RequestName> = { ok: true; result: Results[K] } | { ok: false; error: StudioErrorShape }

/** `window.studio`: built from the contract by the preload (desktop) or the socket client (browser). */
export type StudioApi = {
  [K in RequestName]: (params: RequestParams<K>) => Promise<Results[K]>
} & {
  on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void
}

export const REQUEST_NAMES = Object.keys(requestSchemas) as RequestName[]
export const EVENT_NAMES: readonly EventName[] = [
  'train.progress',
  'train.sample',
  'train.status',
  'train.log',
  'datasets.progress',
  'jobs.progress',
  'explore.findProgress'
]

/** IPC channel names: one for all requests (name inside), one per event. */
export const IPC_REQUEST_CHANNEL = 'studio:request'
export const ipcEventChannel = (event: EventName): string => `studio:event:${event}`

/**
 * Where the studio's files (sample grids, dataset previews, generated images) are fetched from:
 * `studio://home/<path>` in the desktop app, `/files/<path>?token=…` in the browser. Paths are
 * relative to the studio home and are refused outside it.
 */
export interface StudioFiles {
  fileUrl(pathInHome: string): string
}

export type StudioBridge = StudioApi & StudioFiles
