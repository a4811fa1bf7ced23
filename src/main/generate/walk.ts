import { promises as fsp } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { StudioError } from '@shared/errors'
import { writeFileAtomic } from '../util/fs'
import { APP_VERSION } from '../util/version'
import { toUint8 } from '../trainer/run/grid'
import { yieldToEventLoop } from '../util/yield'
import { checkSeeds, checkTruncation, loadGenerator, type GeneratorSource } from './generator'
import { rgbPng, upscaleRaw, UPSCALES, type Upscale } from './images'
import { EASINGS, keyframedLatents, walkFrameCount, type Easing } from './latent'
import { latentForSeed } from '../trainer/model/rng'
import { withPngText } from './png-text'
import { encodeAnimatedWebp, frameDelays } from './webp-anim'

export { frameDelays }

export type WalkFormat = 'gif' | 'webp' | 'png'
export const WALK_FORMATS: readonly WalkFormat[] = ['gif', 'webp', 'png']

export interface WalkProgress {
  phase: 'render' | 'encode' | 'done'
  /** Frames rendered so far. */
  done: number
  total: number
}

/** One keyframe: a seed or a latent (before ψ), and how the walk leaves it towards the next. */
export interface WalkKeyframe {
  seed?: number
  latent?: readonly number[]
  /** Seconds from this keyframe to the next (the last: back to the first); default: an equal share of `seconds`. */
  seconds?: number
  /** Easing of that segment; default: the walk's easing. */
  easing?: Easing
}

export interface LatentWalkOptions extends GeneratorSource {
  /** Keyframe seeds, visited in order; the walk returns to the first so it loops. */
  seeds?: number[]
  /** Keyframes with their own durations and easings (instead of `seeds`). */
  keyframes?: WalkKeyframe[]
  /** Easing of every segment that does not name its own (default ease-in-out). */
  easing?: Easing
  /** Duration in seconds (default 4); with keyframes, shared by those that give no duration. */
  seconds?: number
  /** Frames per second (default 24). Frames = round(seconds × fps). */
  fps?: number
  format?: WalkFormat
  /** Truncation ψ in [0, 2], applied to every frame's latent; default 1. */
  truncation?: number
  upscale?: Upscale
  /** Output file (gif, webp) or folder (png frames); default under `<run>/exports/walks/`. */
  out?: string
  onProgress?: (p: WalkProgress) => void
  signal?: AbortSignal
}

export interface LatentWalkResult {
  /** The animated file, or the folder of PNG frames. */
  out: string
  frames: number
  format: WalkFormat
  checkpoint: string
  step: number
}

/** Raw pixels an animated file may hold while being encoded (all frames are encoded at once). */
const MAX_ANIMATION_BYTES = 1024 ** 3
const RENDER_BATCH = 16

export const frameFileName = (frame: number): string => `frame-${String(frame).padStart(4, '0')}.png`
const FRAME_FILE = /^frame-\d{4,}\.png$/

/** Makes the frames folder and removes the frames of an earlier walk there (nothing else). */
async function clearFrames(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true })
  for (const name of await fsp.readdir(dir)) if (FRAME_FILE.test(name)) await fsp.rm(join(dir, name), { force: true })
}

/** An animated walk asked to go into an existing folder goes into it under its default name. */
async function walkTarget(out: string | undefined, fallback: string, format: WalkFormat): Promise<string> {
  if (!out) return fallback
  if (format === 'png') return out
  const stat = await fsp.stat(out).catch(() => null)
  return stat?.isDirectory() ? join(out, basename(fallback)) : out
}

export function defaultWalkPath(runDir: string, checkpoint: string, seeds: readonly (number | string)[], format: WalkFormat): string {
  const shown = seeds.slice(0, 8).join('-') + (seeds.length > 8 ? '-etc' : '')
  const base = `walk-${checkpoint}-${shown}`
  return join(runDir, 'exports', 'walks', format === 'png' ? `${base}-frames` : `${base}.${format}`)
}


/** Keyframes from the options: `seeds` (equal shares, one easing) or `keyframes`, checked. */
export function walkKeyframes(opts: Pick<LatentWalkOptions, 'seeds' | 'keyframes' | 'seconds' | 'easing'>): { keys: WalkKeyframe[]; durations: number[]; easings: Easing[]; seconds: number } {
  if (opts.seeds && opts.keyframes) throw new StudioError('bad-input', 'Give keyframe seeds or keyframes, not both.')
  const keys: WalkKeyframe[] = opts.keyframes ?? (opts.seeds ?? []).map((seed) => ({ seed }))
  if (keys.length < 2) throw new StudioError('bad-input', 'A walk needs at least two keyframes.')
  if (keys.length > 256) throw new StudioError('bad-input', 'A walk has at most 256 keyframes.')
  const easing = opts.easing ?? 'ease-in-out'
  for (const k of keys) {
    if ((k.seed === undefined) === (k.latent === undefined)) throw new StudioError('bad-input', 'Each keyframe is a seed or a latent.')
    if (k.seed !== undefined) checkSeeds([k.seed])
    if (k.latent !== undefined && !k.latent.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new StudioError('bad-input', 'A keyframe latent holds a value that is not a finite number.')
    if (k.seconds !== undefined && (!Number.isFinite(k.seconds) || k.seconds <= 0 || k.seconds > 600)) throw new StudioError('bad-input', `A keyframe lasts more than 0 and at most 600 seconds (got ${k.seconds}).`)
    if (k.easing !== undefined && !EASINGS.includes(k.easing)) throw new StudioError('bad-input', `Easing must be one of ${EASINGS.join(', ')} (got ${String(k.easing)}).`)
  }
  if (!EASINGS.includes(easing)) throw new StudioError('bad-input', `Easing must be one of ${EASINGS.join(', ')} (got ${String(easing)}).`)
  const given = keys.reduce((a, k) => a + (k.seconds ?? 0), 0)
  const open = keys.filter((k) => k.seconds === undefined).length
  const total = opts.seconds ?? (open === keys.length ? 4 : given + open * (given / (keys.length - open)))
  if (!Number.isFinite(total) || total <= 0 || total > 600) throw new StudioError('bad-input', `Seconds must be between 0 and 600 (got ${total}).`)
  const share = open > 0 ? (total - given) / open : 0
  if (open > 0 && share <= 0) throw new StudioError('bad-input', `The keyframes' own durations (${given} s) leave no time for the others in ${total} s.`)
  const durations = keys.map((k) => k.seconds ?? share)
  const seconds = durations.reduce((a, b) => a + b, 0)
  if (seconds > 600) throw new StudioError('bad-input', `A walk lasts at most 600 seconds (the keyframes add up to ${seconds}).`)
  return { keys, durations, easings: keys.map((k) => k.easing ?? easing), seconds }
}

/**
 * A looping walk through the latents of keyframes (seeds or latents): slerp between consecutive
 * keyframes, each segment with its own duration and easing (ease-in-out unless asked otherwise), the last keyframe returning to the first, exactly round(seconds × fps) frames,
 * saved as an animated GIF, an animated WebP, or a folder of numbered PNG frames.
 */
export async function latentWalk(runDir: string, opts: LatentWalkOptions): Promise<LatentWalkResult> {
  const plan = walkKeyframes(opts)
  const seconds = plan.seconds
  const fps = opts.fps ?? 24
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new StudioError('bad-input', `Frames per second must be a whole number from 1 to 60 (got ${fps}).`)
  const format = opts.format ?? 'gif'
  if (!WALK_FORMATS.includes(format)) throw new StudioError('bad-input', `Format must be gif, webp or png (got ${String(format)}).`)
  const psi = opts.truncation ?? 1
  checkTruncation(psi)
  const upscale = opts.upscale ?? 1
  if (!UPSCALES.includes(upscale)) throw new StudioError('bad-input', `Upscale must be 1, 2 or 4 (got ${String(upscale)}).`)
  const frames = walkFrameCount(seconds, fps)

  const gen = await loadGenerator(runDir, opts)
  try {
    const res = gen.spec.resolution
    const size = res * upscale
    const frameBytes = size * size * 3
    if (format !== 'png' && frames * frameBytes > MAX_ANIMATION_BYTES)
      throw new StudioError(
        'bad-input',
        `${frames} frames of ${size}×${size} are too many for one animated file; choose fewer seconds or frames per second, no upscale, or PNG frames.`
      )
    const dim = gen.spec.latentDim
    const names = plan.keys.map((k) => (k.seed !== undefined ? String(k.seed) : 'z'))
    const out = await walkTarget(opts.out, defaultWalkPath(runDir, gen.checkpoint, names, format), format)
    const keyLatents = plan.keys.map((k) => {
      if (k.seed !== undefined) return latentForSeed(k.seed, dim)
      if (k.latent!.length !== dim) throw new StudioError('bad-input', `A keyframe latent has ${k.latent!.length} values; this run's generator takes ${dim}.`)
      return Float32Array.from(k.latent!)
    })
    const latents = keyframedLatents(keyLatents, plan.durations, plan.easings, frames, psi)
    const report = (p: WalkProgress): void => opts.onProgress?.(p)
    const meta = {
      Software: `GAN Studio ${APP_VERSION}`,
      run: gen.run.id,
      checkpoint: gen.checkpoint,
      step: String(gen.step),
      seeds: names.join(','),
      durations: plan.durations.map((d) => String(Math.round(d * 1000) / 1000)).join(','),
      easings: plan.easings.join(','),
      truncation: String(psi),
      psi: String(psi),
      fps: String(fps)
    }

    const animation = format === 'png' ? null : new Uint8Array(frames * frameBytes)
    if (format === 'png') await clearFrames(out)
    report({ phase: 'render', done: 0, total: frames })
    for (let start = 0; start < frames; start += RENDER_BATCH) {
      // On cpu/wasm a batch never waits on anything: let a cancel (or another job) in between batches.
      await yieldToEventLoop()
      if (opts.signal?.aborted) {
        // Frames written so far go too: a cancelled walk leaves nothing behind.
        if (format === 'png') {
          await clearFrames(out)
          await fsp.rmdir(out).catch(() => undefined)
        }
        throw new StudioError('cancelled', 'The walk was cancelled.')
      }
      const n = Math.min(RENDER_BATCH, frames - start)
      const pixels = toUint8(await gen.render(latents.subarray(start * dim, (start + n) * dim), n))
      for (let i = 0; i < n; i++) {
        const rgb = await upscaleRaw(pixels.subarray(i * res * res * 3, (i + 1) * res * res * 3), res, upscale)
        const f = start + i
        if (animation) animation.set(rgb, f * frameBytes)
        else await writeFileAtomic(join(out, frameFileName(f)), withPngText(await rgbPng(rgb, size), { ...meta, frame: String(f), frames: String(frames) }))
      }
      report({ phase: 'render', done: start + n, total: frames })
    }

    report({ phase: 'encode', done: frames, total: frames })
    if (animation) {
      const encoded =
        format === 'gif'
          ? await sharp(animation, { raw: { width: size, height: size * frames, channels: 3, pageHeight: size } }).gif({ loop: 0, delay: frameDelays(frames, fps, 10), keepDuplicateFrames: true, effort: 7 }).toBuffer()
          : await encodeAnimatedWebp(animation, size, size, frames, frameDelays(frames, fps, 1))
      // A walk cancelled while it was being encoded leaves no file behind.
      if (opts.signal?.aborted) throw new StudioError('cancelled', 'The walk was cancelled.')
      await writeFileAtomic(out, encoded)
    }
    report({ phase: 'done', done: frames, total: frames })
    return { out, frames, format, checkpoint: gen.checkpoint, step: gen.step }
  } finally {
    gen.dispose()
  }
}
