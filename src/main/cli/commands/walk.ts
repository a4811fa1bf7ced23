import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SEED_MAX } from '@shared/config'
import type { Upscale } from '../../generate/images'
import { readFavorites, readFavoritesFile } from '../../generate/favorites'
import { EASINGS, TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { latentWalk, WALK_FORMATS, type WalkFormat, type WalkKeyframe } from '../../generate/walk'
import { backendFlag, parseChoice, parseIntFlag, parseNumberFlag, parseSeedList, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'

export const WALK_USAGE =
  'gan-studio walk <runDir> (--seeds 1,2,3 | --keyframes 1@2,2@0.5~linear,3 | --favorites | --collection <name>) [--easing ease-in-out|linear|ease-in|ease-out] [--seconds N] [--fps N] [--format gif|webp|png] [--out file] [--truncation ψ] [--upscale 2|4] [--checkpoint step-NNNNNN]'

/** `SEED[@SECONDS][~EASING]` items separated by commas: keyframes with their own timing. */
export function parseKeyframes(value: string): WalkKeyframe[] {
  return value.split(',').map((part) => {
    const m = /^\s*(\d+)(?:@(\d+(?:\.\d+)?))?(?:~([a-z-]+))?\s*$/.exec(part)
    if (!m) throw new UsageError(`--keyframes: "${part.trim()}" is not SEED[@SECONDS][~EASING] (e.g. 42@1.5~linear)`)
    const seed = Number(m[1])
    if (seed > SEED_MAX) throw new UsageError(`--keyframes: seed ${seed} is out of range (0 to ${SEED_MAX})`)
    const seconds = m[2] !== undefined ? Number(m[2]) : undefined
    if (seconds !== undefined && (seconds <= 0 || seconds > 600)) throw new UsageError(`--keyframes: ${part.trim()} lasts ${seconds} s (more than 0, at most 600)`)
    const easing = m[3] !== undefined ? parseChoice('keyframes easing', m[3], EASINGS) : undefined
    return { seed, ...(seconds !== undefined && { seconds }), ...(easing !== undefined && { easing }) }
  })
}

/** `gan-studio walk`: a looping latent walk through keyframe seeds, as GIF, WebP or PNG frames. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('walk', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        seeds: { type: 'string' },
        keyframes: { type: 'string' },
        favorites: { type: 'boolean' },
        collection: { type: 'string' },
        easing: { type: 'string' },
        seconds: { type: 'string' },
        fps: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        truncation: { type: 'string' },
        upscale: { type: 'string' },
        checkpoint: { type: 'string' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`walk needs one run folder. Usage: ${WALK_USAGE}`)
    const sources = [values.seeds, values.keyframes, values.favorites, values.collection].filter((v) => v !== undefined).length
    if (sources === 0) throw new UsageError(`--seeds is required (two or more keyframe seeds, e.g. --seeds 1,2,3), or --keyframes, --favorites or --collection`)
    if (sources > 1) throw new UsageError('give the keyframes one way: --seeds, --keyframes, --favorites or --collection')
    let keyframes: WalkKeyframe[] | undefined
    if (values.seeds !== undefined) {
      const seeds = parseSeedList('seeds', values.seeds, SEED_MAX)
      if (seeds.length < 2 || seeds.length > 64) throw new UsageError(`--seeds needs 2 to 64 keyframe seeds (got ${seeds.length})`)
      keyframes = seeds.map((seed) => ({ seed }))
    } else if (values.keyframes !== undefined) {
      keyframes = parseKeyframes(values.keyframes)
      if (keyframes.length < 2 || keyframes.length > 64) throw new UsageError(`--keyframes needs 2 to 64 keyframes (got ${keyframes.length})`)
    }
    const easing = parseChoice('easing', values.easing, EASINGS)
    const seconds = parseNumberFlag('seconds', values.seconds, 0.1, 600)
    const fps = parseIntFlag('fps', values.fps, 1, 60) ?? 24
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const upscale = (parseChoice('upscale', values.upscale, [1, 2, 4] as const) ?? 1) as Upscale
    const fromExt = values.out ? WALK_FORMATS.find((f) => f !== 'png' && extname(values.out!).toLowerCase() === `.${f}`) : undefined
    const format: WalkFormat = parseChoice('format', values.format, WALK_FORMATS) ?? fromExt ?? 'gif'
    if (fromExt && fromExt !== format) throw new UsageError(`--out ends in .${fromExt} but --format is ${format}`)
    const backend = backendFlag(values.backend)
    const runDir = await resolveRunDir(positionals[0]!)
    if (values.favorites) {
      const seeds = await readFavorites(runDir)
      if (seeds.length < 2) throw new UsageError(`--favorites: this run has ${seeds.length} starred seed${seeds.length === 1 ? '' : 's'}; a walk needs two or more`)
      keyframes = seeds.map((seed) => ({ seed }))
    } else if (values.collection !== undefined) {
      const c = (await readFavoritesFile(runDir)).collections.find((o) => o.name.localeCompare(values.collection!, undefined, { sensitivity: 'accent' }) === 0)
      if (!c) throw new UsageError(`--collection: there is no collection "${values.collection}" in this run`)
      if (c.items.length < 2) throw new UsageError(`--collection: "${c.name}" holds ${c.items.length} item${c.items.length === 1 ? '' : 's'}; a walk needs two or more`)
      keyframes = c.items.map((i) => (i.seed !== null ? { seed: i.seed } : { latent: i.latent! }))
    }

    const progress = progressPrinter(io, 'Frames')
    let result
    try {
      result = await latentWalk(runDir, {
        ...backend,
        keyframes,
        easing,
        seconds,
        fps,
        format,
        truncation,
        upscale,
        checkpoint: values.checkpoint,
        out: values.out !== undefined ? resolve(values.out) : undefined,
        onProgress: (p) => {
          if (p.phase === 'render') progress.update(p.done, p.total)
        }
      })
    } finally {
      progress.stop()
    }
    const what = format === 'png' ? `${result.frames} PNG frames` : `a ${result.frames}-frame looping ${format.toUpperCase()}`
    const named = keyframes!.map((k) => (k.seed !== undefined ? String(k.seed) : 'latent')).join(', ')
    io.out(`Wrote ${what} (keyframes ${named}, ${fps} fps, step ${result.step}) to ${result.out}`)
    return 0
  })
}
