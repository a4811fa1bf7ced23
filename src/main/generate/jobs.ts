import type {
  DirectionsJobInput,
  DirectionsJobOutput,
  ExportCollectionJobInput,
  ExportCollectionJobOutput,
  ExportJobInput,
  ExportJobOutput,
  FindJobInput,
  FindJobOutput,
  GenerateJobInput,
  GenerateJobOutput,
  JobEvent,
  RenderJobInput,
  RenderJobOutput,
  VariationsJobInput,
  VariationsJobOutput,
  WalkJobInput,
  WalkJobOutput
} from '../trainer/child-messages'
import { exportCollection } from './explore/collection-export'
import { runDirections } from './explore/directions'
import { findImage } from './explore/find'
import { renderSources } from './explore/render'
import { makeVariations } from './explore/variations'
import { exportModel } from './export-model'
import { generateImages } from './images'
import { latentWalk } from './walk'

/**
 * The tensor jobs a trainer child runs for the studio (the studio's main process and `serve` never
 * load tfjs): the same generate, walk, export and explore code the CLI runs in its own process.
 */

export interface TensorJobContext {
  /** Calibration cache for `auto`. */
  backendCacheFile: string | null
  signal: AbortSignal
  emit(event: JobEvent): void
}

function generatorSource(input: { checkpoint?: string; backend?: GenerateJobInput['backend'] }, ctx: TensorJobContext) {
  return {
    ...(input.checkpoint ? { checkpoint: input.checkpoint } : {}),
    ...(input.backend ? { backend: input.backend } : {}),
    ...(ctx.backendCacheFile ? { backendCacheFile: ctx.backendCacheFile } : {})
  }
}

/** A copy that owns its bytes (a pooled Buffer would carry its whole pool across the port). */
const own = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes)

export async function generateJob(input: GenerateJobInput, ctx: TensorJobContext): Promise<GenerateJobOutput> {
  const result = await generateImages(input.runDir, {
    ...generatorSource(input, ctx),
    seeds: input.seeds,
    truncation: input.truncation,
    upscale: input.upscale,
    sheet: input.sheet,
    collection: input.collection,
    outDir: input.save ? undefined : null,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.emit({ type: 'job-progress', phase: done < total ? 'render' : 'done', done, total })
  })
  return {
    checkpoint: result.checkpoint,
    step: result.step,
    resolution: result.resolution,
    outDir: result.outDir,
    images: result.images.map((img) => ({ seed: img.seed, png: img.png ? own(img.png) : null, file: img.file })),
    sheet: result.sheet ? { png: own(result.sheet.png), file: result.sheet.file } : null
  }
}

export async function walkJob(input: WalkJobInput, ctx: TensorJobContext): Promise<WalkJobOutput> {
  const result = await latentWalk(input.runDir, {
    ...generatorSource(input, ctx),
    ...(input.seeds ? { seeds: input.seeds } : {}),
    ...(input.keyframes ? { keyframes: input.keyframes } : {}),
    ...(input.easing ? { easing: input.easing } : {}),
    ...(input.seconds !== undefined ? { seconds: input.seconds } : {}),
    fps: input.fps,
    format: input.format,
    truncation: input.truncation,
    upscale: input.upscale,
    signal: ctx.signal,
    onProgress: (p) => ctx.emit({ type: 'job-progress', phase: p.phase, done: p.done, total: p.total })
  })
  return { out: result.out, frames: result.frames, checkpoint: result.checkpoint, step: result.step }
}

export async function exportJob(input: ExportJobInput, ctx: TensorJobContext): Promise<ExportJobOutput> {
  const result = await exportModel(input.runDir, { ...generatorSource(input, ctx), signal: ctx.signal })
  return { dir: result.dir, files: result.files, checkpoint: result.checkpoint, step: result.step }
}

export async function renderJob(input: RenderJobInput, ctx: TensorJobContext): Promise<RenderJobOutput> {
  const result = await renderSources(input.runDir, input.items, { ...generatorSource(input, ctx), truncation: input.truncation, signal: ctx.signal })
  return { pngs: result.pngs.map(own), checkpoint: result.checkpoint, step: result.step }
}

export async function variationsJob(input: VariationsJobInput, ctx: TensorJobContext): Promise<VariationsJobOutput> {
  const result = await makeVariations(input.runDir, {
    ...generatorSource(input, ctx),
    center: input.center,
    strength: input.strength,
    count: input.count,
    variationSeed: input.variationSeed,
    truncation: input.truncation,
    signal: ctx.signal
  })
  const wire = (v: { latent: Float32Array; png: Uint8Array }): { latent: number[]; png: Uint8Array } => ({ latent: Array.from(v.latent), png: own(v.png) })
  return { center: wire(result.center), neighbours: result.neighbours.map(wire), checkpoint: result.checkpoint, step: result.step }
}

export async function exportCollectionJob(input: ExportCollectionJobInput, ctx: TensorJobContext): Promise<ExportCollectionJobOutput> {
  const result = await exportCollection(input.runDir, input.name, {
    ...generatorSource(input, ctx),
    truncation: input.truncation,
    upscale: input.upscale,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.emit({ type: 'job-progress', phase: done < total ? 'render' : 'done', done, total })
  })
  return { dir: result.dir, files: result.files, checkpoint: result.checkpoint, step: result.step }
}

export async function directionsJob(input: DirectionsJobInput, ctx: TensorJobContext): Promise<DirectionsJobOutput> {
  const { file: _file, useEma: _ema, ...info } = await runDirections(input.runDir, {
    ...generatorSource(input, ctx),
    count: input.count,
    recompute: input.recompute,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.emit({ type: 'job-progress', phase: done < total ? 'render' : 'done', done, total })
  })
  void _file
  void _ema
  return info
}

/** At most one progress event per this many ms, except those that carry a preview or end a phase. */
const FIND_PROGRESS_MS = 150

export async function findJob(input: FindJobInput, ctx: TensorJobContext): Promise<FindJobOutput> {
  let last = 0
  let phase = ''
  const r = await findImage(input.runDir, {
    ...generatorSource(input, ctx),
    target: input.target,
    steps: input.steps,
    starts: input.starts,
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    signal: ctx.signal,
    onProgress: (p) => {
      const now = Date.now()
      if (!p.preview && !p.target && p.phase === phase && now - last < FIND_PROGRESS_MS) return
      last = now
      phase = p.phase
      ctx.emit({ type: 'find-progress', phase: p.phase, done: p.done, total: p.total, loss: p.loss, preview: p.preview ? own(p.preview) : null, ...(p.target ? { target: own(p.target) } : {}) })
    }
  })
  return {
    latent: Array.from(r.latent),
    png: own(r.png),
    targetPng: own(r.targetPng),
    targetLabel: r.targetLabel,
    psnr: r.psnr,
    distance: r.distance,
    baseline: r.baseline,
    verdict: r.verdict,
    summary: r.summary,
    steps: r.steps,
    starts: r.starts,
    checkpoint: r.checkpoint,
    step: r.step,
    ms: r.ms
  }
}
