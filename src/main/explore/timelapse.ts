import { promises as fsp } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { StudioError } from '@shared/errors'
import { sampleFileName } from '@shared/runs'
import { readRun, listSamples } from '../trainer/run/runs'
import { writeFileAtomic } from '../util/fs'
import { encodeAnimatedWebp, frameDelays } from '../generate/webp-anim'
import { drawText, textHeight, textWidth } from './bitmap-font'

export type TimelapseFormat = 'gif' | 'webp'
export const TIMELAPSE_FORMATS: readonly TimelapseFormat[] = ['gif', 'webp']

export interface TimelapseProgress {
  phase: 'read' | 'encode' | 'done'
  done: number
  total: number
}

export interface TimelapseOptions {
  /** One cell of the grid (0-based, row by row); default: the whole grid. */
  cell?: number
  format?: TimelapseFormat
  /** Frames per second (default 6). */
  fps?: number
  /** Extra seconds the last frame stays up before the loop starts again (default 1.5). */
  holdSeconds?: number
  /** At most this many frames (default 240): longer histories are thinned evenly, first and last kept. */
  maxFrames?: number
  /** Widest frame in pixels (default 800): larger grids are scaled down to it. */
  maxWidth?: number
  /** Output file; default `<run>/exports/timelapse/timelapse[-cell-N].<format>`; a folder: that name inside it. */
  out?: string
  onProgress?: (p: TimelapseProgress) => void
  signal?: AbortSignal
}

export interface TimelapseResult {
  out: string
  format: TimelapseFormat
  /** The training step shown by each frame, in order. */
  steps: number[]
  width: number
  height: number
}

/** Raw pixels an animated file may hold while being encoded. */
const MAX_ANIMATION_BYTES = 1024 ** 3
const STRIP_BG: [number, number, number] = [24, 24, 27]
const TEXT: [number, number, number] = [240, 240, 240]
const BAR: [number, number, number] = [129, 140, 248]
/** A single cell is enlarged (nearest neighbour, whole factors) to at least this width. */
const MIN_CELL_WIDTH = 128

/** Where the sample grid puts each image: mirrors trainer/run/grid.ts's layout. */
export function gridGeometry(count: number, resolution: number): { columns: number; rows: number; cell: number; gap: number; width: number; height: number } {
  const columns = Math.ceil(Math.sqrt(count))
  const rows = Math.ceil(count / columns)
  const cell = resolution * (resolution <= 32 ? 2 : 1)
  const gap = 2
  return { columns, rows, cell, gap, width: columns * cell + (columns + 1) * gap, height: rows * cell + (rows + 1) * gap }
}

/** `count` indices spread evenly over 0…n−1, first and last included (all of them when n ≤ count). */
export function thinEvenly(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i)
  if (count <= 1) return [n - 1]
  const out = new Set<number>()
  for (let i = 0; i < count; i++) out.add(Math.round((i * (n - 1)) / (count - 1)))
  return [...out]
}

export const stepLabel = (step: number): string => `STEP ${step.toLocaleString('en-US')}`

/**
 * The label strip under every frame: "STEP 1,200" in the bitmap font and a bar that fills as the
 * steps go by, so the viewer sees how far into training each frame is.
 */
export function drawStrip(width: number, step: number, lastStep: number): { rgb: Uint8Array; height: number } {
  const label = stepLabel(step)
  let scale = Math.max(1, Math.min(6, Math.floor(width / 150)))
  while (scale > 1 && textWidth(label, scale) + 4 * scale > width) scale--
  const pad = 2 * scale
  const height = textHeight(scale) + 2 * pad + scale
  const rgb = new Uint8Array(width * height * 3)
  for (let i = 0; i < width * height; i++) rgb.set(STRIP_BG, i * 3)
  drawText(rgb, width, height, label, pad, pad, scale, TEXT)
  const filled = lastStep > 0 ? Math.round((width * Math.min(step, lastStep)) / lastStep) : width
  for (let y = height - scale; y < height; y++) for (let x = 0; x < filled; x++) rgb.set(BAR, (y * width + x) * 3)
  return { rgb, height }
}

async function readRgb(file: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height }
}

function crop(src: Uint8Array, srcWidth: number, x: number, y: number, w: number, h: number, factor: number): Uint8Array {
  const out = new Uint8Array(w * factor * h * factor * 3)
  const ow = w * factor
  for (let oy = 0; oy < h * factor; oy++) {
    const sy = y + Math.floor(oy / factor)
    for (let ox = 0; ox < ow; ox++) {
      const s = (sy * srcWidth + x + Math.floor(ox / factor)) * 3
      const d = (oy * ow + ox) * 3
      out[d] = src[s]!
      out[d + 1] = src[s + 1]!
      out[d + 2] = src[s + 2]!
    }
  }
  return out
}

async function target(out: string | undefined, fallback: string): Promise<string> {
  if (!out) return fallback
  const stat = await fsp.stat(out).catch(() => null)
  return stat?.isDirectory() ? join(out, basename(fallback)) : out
}

export function defaultTimelapsePath(runDir: string, cell: number | undefined, format: TimelapseFormat): string {
  return join(runDir, 'exports', 'timelapse', `timelapse${cell === undefined ? '' : `-cell-${cell}`}.${format}`)
}

/**
 * The run learning, step by step: its fixed-seed sample grids (or one cell of them), oldest first,
 * each with its step number drawn in, as a looping animated GIF or WebP. Needs no model and no
 * tensors — only the run folder's `samples/`.
 */
export async function trainingTimelapse(runDir: string, opts: TimelapseOptions = {}): Promise<TimelapseResult> {
  const format = opts.format ?? 'gif'
  if (!TIMELAPSE_FORMATS.includes(format)) throw new StudioError('bad-input', `Format must be gif or webp (got ${String(format)}).`)
  const fps = opts.fps ?? 6
  if (!Number.isFinite(fps) || fps <= 0 || fps > 60) throw new StudioError('bad-input', `Frames per second must be between 0 and 60 (got ${fps}).`)
  const hold = opts.holdSeconds ?? 1.5
  if (!Number.isFinite(hold) || hold < 0 || hold > 60) throw new StudioError('bad-input', `The hold on the last frame must be 0 to 60 seconds (got ${hold}).`)
  const maxFrames = opts.maxFrames ?? 240
  if (!Number.isInteger(maxFrames) || maxFrames < 2 || maxFrames > 5000) throw new StudioError('bad-input', `Maximum frames must be a whole number from 2 to 5000 (got ${maxFrames}).`)
  const maxWidth = opts.maxWidth ?? 800
  if (!Number.isInteger(maxWidth) || maxWidth < 64 || maxWidth > 4096) throw new StudioError('bad-input', `Maximum width must be 64 to 4096 pixels (got ${maxWidth}).`)

  const run = await readRun(runDir)
  const count = run.config.gridSize
  const res = run.config.preprocess.resolution
  if (opts.cell !== undefined && (!Number.isInteger(opts.cell) || opts.cell < 0 || opts.cell >= count))
    throw new StudioError('bad-input', `Cell must be 0 to ${count - 1}: this run's sample grid has ${count} images (got ${opts.cell}).`)
  const all = await listSamples(runDir, run.id)
  if (all.length === 0) throw new StudioError('not-found', `The run "${run.name}" has no sample grids yet (samples/ is empty); train it for a while first.`)
  const chosen = thinEvenly(all.length, maxFrames).map((i) => all[i]!.step)
  const lastStep = chosen[chosen.length - 1]!
  const geo = gridGeometry(count, res)
  const report = (p: TimelapseProgress): void => opts.onProgress?.(p)
  const out = await target(opts.out, defaultTimelapsePath(runDir, opts.cell, format))

  let width = 0
  let imageHeight = 0
  let animation: Uint8Array | null = null
  let frameBytes = 0
  let stripHeight = 0
  report({ phase: 'read', done: 0, total: chosen.length })
  for (let f = 0; f < chosen.length; f++) {
    if (opts.signal?.aborted) throw new StudioError('cancelled', 'The timelapse was cancelled.')
    const step = chosen[f]!
    const file = join(runDir, sampleFileName(step))
    let grid: Awaited<ReturnType<typeof readRgb>>
    try {
      grid = await readRgb(file)
    } catch (err) {
      throw new StudioError('bad-input', `The sample grid for step ${step} (${sampleFileName(step)}) is unreadable: ${(err as Error).message.split('\n')[0]}`)
    }
    let image: Uint8Array
    let w: number
    let h: number
    if (opts.cell !== undefined) {
      if (grid.width !== geo.width || grid.height !== geo.height)
        throw new StudioError(
          'bad-input',
          `The sample grid for step ${step} is ${grid.width}×${grid.height} px, not the ${geo.width}×${geo.height} a grid of ${count} images at ${res} px makes, so its cells cannot be found; export the whole grid instead.`
        )
      const factor = Math.max(1, Math.ceil(MIN_CELL_WIDTH / geo.cell))
      const x = geo.gap + (opts.cell % geo.columns) * (geo.cell + geo.gap)
      const y = geo.gap + Math.floor(opts.cell / geo.columns) * (geo.cell + geo.gap)
      image = crop(grid.rgb, grid.width, x, y, geo.cell, geo.cell, factor)
      w = geo.cell * factor
      h = geo.cell * factor
    } else {
      image = grid.rgb
      w = grid.width
      h = grid.height
    }
    if (f === 0) {
      width = Math.min(w, maxWidth)
      imageHeight = Math.max(1, Math.round((h * width) / w))
    }
    if (w !== width || h !== imageHeight) {
      const resized = await sharp(image, { raw: { width: w, height: h, channels: 3 } })
        .resize(width, imageHeight, { fit: 'fill', kernel: width < w ? 'lanczos3' : 'nearest' })
        .raw()
        .toBuffer()
      image = new Uint8Array(resized.buffer, resized.byteOffset, resized.byteLength)
    }
    const strip = drawStrip(width, step, lastStep)
    if (!animation) {
      stripHeight = strip.height
      frameBytes = width * (imageHeight + strip.height) * 3
      if (frameBytes * chosen.length > MAX_ANIMATION_BYTES)
        throw new StudioError('bad-input', `${chosen.length} frames of ${width}×${imageHeight + strip.height} are too many for one animated file; choose fewer frames, a smaller width, or one cell.`)
      animation = new Uint8Array(frameBytes * chosen.length)
    }
    animation.set(image, f * frameBytes)
    animation.set(strip.rgb, f * frameBytes + image.length)
    report({ phase: 'read', done: f + 1, total: chosen.length })
  }

  const height = imageHeight + stripHeight
  const frames = chosen.length
  report({ phase: 'encode', done: frames, total: frames })
  const tick = format === 'gif' ? 10 : 1
  const delays = frameDelays(frames, fps, tick)
  delays[frames - 1] = delays[frames - 1]! + Math.round((hold * 1000) / tick) * tick
  const encoded =
    format === 'gif'
      ? await sharp(animation!, { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
          .gif({ loop: 0, delay: delays, keepDuplicateFrames: true, effort: 7 })
          .toBuffer()
      : await encodeAnimatedWebp(animation!, width, height, frames, delays)
  if (opts.signal?.aborted) throw new StudioError('cancelled', 'The timelapse was cancelled.')
  await writeFileAtomic(out, encoded)
  report({ phase: 'done', done: frames, total: frames })
  return { out, format, steps: chosen, width, height }
}
