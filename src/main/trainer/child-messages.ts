import type { BackendRequest } from '@shared/config'
import type { Easing } from '../generate/latent'
import type { BackendStatus } from '@shared/contract'
import type { DirectionsInfo } from '@shared/directions'
import type { StudioErrorShape } from '@shared/errors'
import type { RunJson } from '@shared/runs'
import type { TrainerEvent } from './events'

/**
 * The messages between the studio (the Electron main process, or `serve`) and a trainer child
 * (`out/main/trainer-process.js`, an Electron utility process or a plain Node child).
 *
 * The child says `ready` as soon as it listens; the host then sends `init` once, then jobs. A job is
 * `train`, `probe` (optionally calibrating first, which caches speeds) or one of the tensor jobs
 * (`generate`, `walk`, `export`, and the explore tools' `render`, `variations`, `exportCollection`, `directions`, `find`); it streams `event`s and ends with exactly one `done` or `failed`.
 * One child may run several jobs at once. `control` flips the cooperative pause/stop flags the
 * training loop polls between steps; `cancel` asks any job to end early (a training job stops with a
 * checkpoint, a tensor job ends `failed` with code `cancelled` and writes nothing more).
 */

export interface TrainerInit {
  type: 'init'
  datasetsDir: string
  /** Where backend calibration results are cached (shared by every job). */
  backendCacheFile: string | null
  /** At most one progress event per job per this many ms (logged metrics are never dropped). */
  progressIntervalMs: number
}

/** Where a tensor job reads its generator from. */
export interface GeneratorJobInput {
  runDir: string
  /** Checkpoint folder name; default: the newest good one. */
  checkpoint?: string
  /** Default: the backend `auto` chose (cached), cpu allowed. */
  backend?: BackendRequest
}

export interface GenerateJobInput extends GeneratorJobInput {
  seeds: number[]
  truncation: number
  upscale: 1 | 2 | 4
  sheet: boolean
  /** Write PNGs under `exports/<collection>/…`; otherwise answer with the PNG bytes. */
  save: boolean
  collection: 'images' | 'favorites'
}

export interface GenerateJobOutput {
  checkpoint: string
  step: number
  resolution: number
  /** Absolute folder written into, or null when nothing was written. */
  outDir: string | null
  /** `png` when nothing was written, else `file` (absolute). */
  images: { seed: number; png: Uint8Array | null; file: string | null }[]
  sheet: { png: Uint8Array; file: string | null } | null
}

/** A walk keyframe: a seed or a latent (before ψ), with its own time to the next and easing. */
export interface WalkJobKeyframe {
  seed?: number
  latent?: number[]
  seconds?: number
  easing?: Easing
}

export interface WalkJobInput extends GeneratorJobInput {
  /** Keyframe seeds (equal times, one easing), or `keyframes`. */
  seeds?: number[]
  keyframes?: WalkJobKeyframe[]
  /** The easing of segments that name none (default ease-in-out). */
  easing?: Easing
  /** The loop's length; default 4 s for seeds, the keyframes' own times otherwise. */
  seconds?: number
  fps: number
  format: 'gif' | 'webp' | 'png'
  truncation: number
  upscale: 1 | 2 | 4
}

export interface WalkJobOutput {
  /** The animated file, or the folder of PNG frames (absolute). */
  out: string
  frames: number
  checkpoint: string
  step: number
}

export type ExportJobInput = GeneratorJobInput

/** What the explore tools render: a seed, or a latent before truncation ψ. */
export type LatentSourceInput = { seed: number; latent?: undefined } | { latent: number[]; seed?: undefined }

export interface RenderJobInput extends GeneratorJobInput {
  items: LatentSourceInput[]
  truncation: number
}

export interface RenderJobOutput {
  pngs: Uint8Array[]
  checkpoint: string
  step: number
}

export interface VariationsJobInput extends GeneratorJobInput {
  center: LatentSourceInput
  strength: number
  count: number
  variationSeed: number
  truncation: number
}

export interface VariationsJobOutput {
  /** Latents before ψ, with their PNGs. */
  center: { latent: number[]; png: Uint8Array }
  neighbours: { latent: number[]; png: Uint8Array }[]
  checkpoint: string
  step: number
}

export interface ExportCollectionJobInput extends GeneratorJobInput {
  name: string
  truncation: number
  upscale: 1 | 2 | 4
}

export interface ExportCollectionJobOutput {
  /** Absolute folder and files written. */
  dir: string
  files: string[]
  checkpoint: string
  step: number
}

/** A run's principal directions at a checkpoint: from its cache, else computed (progress: batches over all passes). */
export interface DirectionsJobInput extends GeneratorJobInput {
  count: number
  recompute: boolean
}

export type DirectionsJobOutput = DirectionsInfo

/** "Find my image": the picture to look for (a file on this machine, its bytes, or an image of the run's dataset). */
export type FindJobTarget = { file: string } | { bytes: Uint8Array; name?: string } | { datasetImage: number; datasetsDir: string }

export interface FindJobInput extends GeneratorJobInput {
  target: FindJobTarget
  steps: number
  starts: number
  seed?: number
}

export interface FindJobOutput {
  /** The found latent, before ψ. */
  latent: number[]
  png: Uint8Array
  /** The target as compared (preprocessed like the run's dataset). */
  targetPng: Uint8Array
  targetLabel: string
  psnr: number
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

export interface ExportJobOutput {
  dir: string
  files: string[]
  checkpoint: string
  step: number
}

export interface JobMethods {
  train: { input: { runDir: string }; output: RunJson }
  probe: { input: { calibrate?: boolean }; output: BackendStatus[] }
  generate: { input: GenerateJobInput; output: GenerateJobOutput }
  walk: { input: WalkJobInput; output: WalkJobOutput }
  export: { input: ExportJobInput; output: ExportJobOutput }
  render: { input: RenderJobInput; output: RenderJobOutput }
  variations: { input: VariationsJobInput; output: VariationsJobOutput }
  exportCollection: { input: ExportCollectionJobInput; output: ExportCollectionJobOutput }
  directions: { input: DirectionsJobInput; output: DirectionsJobOutput }
  find: { input: FindJobInput; output: FindJobOutput }
}
export type JobMethod = keyof JobMethods
/** The jobs that only make images or files from a run's checkpoint (no training). */
export type TensorJobMethod = Exclude<JobMethod, 'train' | 'probe'>

/** How far a tensor job has got (walk: frames rendered, then encoding; generate, render, exportCollection: images made). */
export interface JobProgressEvent {
  type: 'job-progress'
  phase: 'render' | 'encode' | 'done'
  done: number
  total: number
}
/** "Find my image": how far the search has got, with a PNG of the best match now and then. */
export interface FindProgressEvent {
  type: 'find-progress'
  phase: 'screen' | 'explore' | 'refine' | 'done'
  done: number
  total: number
  loss: number | null
  preview: Uint8Array | null
  /** The target as compared, on the first event only. */
  target?: Uint8Array
}
export type JobEvent = TrainerEvent | JobProgressEvent | FindProgressEvent

export type StartJob = { [M in JobMethod]: { type: 'job'; jobId: string; method: M; input: JobMethods[M]['input'] } }[JobMethod]

export type HostMessage =
  | TrainerInit
  | StartJob
  | { type: 'control'; jobId: string; pause?: boolean; stop?: boolean }
  | { type: 'cancel'; jobId: string }
  /** Finish (the host has stopped every job first) and exit. */
  | { type: 'exit' }

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'event'; jobId: string; event: JobEvent }
  | { type: 'done'; jobId: string; output: unknown }
  | { type: 'failed'; jobId: string; error: StudioErrorShape }
  /** Something broke outside any job (an uncaught exception); the child exits after sending it. */
  | { type: 'fatal'; error: StudioErrorShape }

/** The child's side of the port: Electron's `process.parentPort`, Node's IPC, or memory in tests. */
export interface ChildPort {
  postMessage(message: ChildMessage): void
  onMessage(listener: (message: HostMessage) => void): void
}

/** Set in the child's environment by the host, so that importing the entry elsewhere has no effect. */
export const TRAINER_CHILD_ENV = 'GAN_STUDIO_TRAINER_CHILD'

export function isHostMessage(value: unknown): value is HostMessage {
  if (typeof value !== 'object' || value === null) return false
  const type = (value as { type?: unknown }).type
  return type === 'init' || type === 'job' || type === 'control' || type === 'cancel' || type === 'exit'
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false
  const type = (value as { type?: unknown }).type
  return type === 'ready' || type === 'event' || type === 'done' || type === 'failed' || type === 'fatal'
}
