import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SEED_MAX } from '@shared/config'
import type { Upscale } from '../../generate/images'
import { readFavorites, readFavoritesFile } from '../../generate/favorites'
import { EASINGS, TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { latentWalk, WALK_FORMATS, type WalkFormat, type WalkKeyframe } from '../../generate/walk'
import { backendFlag, parseChoice, parseIntFlag, parseNumberFlag, parseSeedList, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'
import { applyDirections, parseDirectionRef } from '@shared/directions'
import { resolveDirection, type DirectionsOptions } from '../../generate/explore/directions'
import { latentForSeed } from '../../trainer/model/rng'
import { readRun } from '../../trainer/run/runs'

export const WALK_USAGE =
  'gan-studio walk <runDir> (--seeds 1,2,3 | --keyframes 1@2,2+smile:1.5@0.5~linear,3 | --favorites | --collection <name>) [--along <N|pcN|direction> [--amount A]] [--easing ease-in-out|linear|ease-in|ease-out] [--seconds N] [--fps N] [--format gif|webp|png] [--out file] [--truncation ψ] [--upscale 2|4] [--checkpoint step-NNNNNN]'

/** A typed keyframe: a seed, moved along directions (`+NAME:AMOUNT`, a saved direction or a principal one), with its own timing. */
export type CliKeyframe = WalkKeyframe & { moves?: { direction: string; amount: number }[] }

/** `SEED[+DIRECTION:AMOUNT…][@SECONDS][~EASING]` items separated by commas: keyframes with their own timing. */
export function parseKeyframes(value: string): CliKeyframe[] {
  return value.split(',').map((part) => {
    const m = /^\s*(\d+)((?:\s*\+[^+:@~,]+:\s*-?\d+(?:\.\d+)?\s*)*)(?:@(\d+(?:\.\d+)?))?(?:~([a-z-]+))?\s*$/.exec(part)
    if (!m) throw new UsageError(`--keyframes: "${part.trim()}" is not SEED[+DIRECTION:AMOUNT][@SECONDS][~EASING] (e.g. 42+pc1:2@1.5~linear)`)
    const seed = Number(m[1])
    if (seed > SEED_MAX) throw new UsageError(`--keyframes: seed ${seed} is out of range (0 to ${SEED_MAX})`)
    const moves = [...m[2]!.matchAll(/\+([^+:@~,]+):\s*(-?\d+(?:\.\d+)?)/g)].map((x) => ({ direction: x[1]!.trim(), amount: Number(x[2]) }))
    if (moves.some((mv) => Math.abs(mv.amount) > 100)) throw new UsageError(`--keyframes: ${part.trim()} moves more than 100 standard deviations`)
    const seconds = m[3] !== undefined ? Number(m[3]) : undefined
    if (seconds !== undefined && (seconds <= 0 || seconds > 600)) throw new UsageError(`--keyframes: ${part.trim()} lasts ${seconds} s (more than 0, at most 600)`)
    const easing = m[4] !== undefined ? parseChoice('keyframes easing', m[4], EASINGS) : undefined
    return { seed, ...(moves.length > 0 && { moves }), ...(seconds !== undefined && { seconds }), ...(easing !== undefined && { easing }) }
  })
}

/**
 * Keyframes whose seeds are moved along directions become latent keyframes (the directions
 * resolved once each: saved ones from the run folder, principal ones from its cache or computed).
 */
async function resolveMoves(runDir: string, keys: CliKeyframe[], opts: DirectionsOptions): Promise<WalkKeyframe[]> {
  if (!keys.some((k) => k.moves)) return keys
  const dim = (await readRun(runDir)).config.model.latentDim
  const resolved = new Map<string, number[]>()
  const out: WalkKeyframe[] = []
  for (const { moves, ...key } of keys) {
    if (!moves) {
      out.push(key)
      continue
    }
    const offsets: { vector: number[]; amount: number }[] = []
    for (const mv of moves) {
      const id = mv.direction.toLowerCase()
      if (!resolved.has(id)) resolved.set(id, (await resolveDirection(runDir, parseDirectionRef(mv.direction), opts)).vector)
      offsets.push({ vector: resolved.get(id)!, amount: mv.amount })
    }
    const { seed: _seed, ...timing } = key
    void _seed
    out.push({ ...timing, latent: applyDirections(latentForSeed(key.seed!, dim), offsets) })
  }
  return out
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
        along: { type: 'string' },
        amount: { type: 'string' },
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
    let keyframes: CliKeyframe[] | undefined
    const along = values.along?.trim()
    if (values.along !== undefined && !along) throw new UsageError('--along needs a direction: a principal one (1, pc2…) or a saved one’s name')
    if (values.amount !== undefined && along === undefined) throw new UsageError('--amount goes with --along')
    const amount = parseNumberFlag('amount', values.amount, 0.1, 100) ?? 2
    if (values.seeds !== undefined) {
      const seeds = parseSeedList('seeds', values.seeds, SEED_MAX)
      if (along !== undefined) {
        if (seeds.length !== 1) throw new UsageError(`--along swings one image along a direction: give one seed (--seeds S), got ${seeds.length}`)
        // Out and back on both sides: seed → +amount → seed → −amount → (seed), so the loop has no seam.
        const [seed] = seeds as [number]
        keyframes = [{ seed }, { seed, moves: [{ direction: along, amount }] }, { seed }, { seed, moves: [{ direction: along, amount: -amount }] }]
      } else {
        if (seeds.length < 2 || seeds.length > 64) throw new UsageError(`--seeds needs 2 to 64 keyframe seeds (got ${seeds.length})`)
        keyframes = seeds.map((seed) => ({ seed }))
      }
    } else if (along !== undefined) {
      throw new UsageError('--along swings one image along a direction: give it with --seeds S')
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

    const named = keyframes!.map((k) => (k.seed !== undefined ? `${k.seed}${(k.moves ?? []).map((mv) => `+${mv.direction}:${mv.amount}`).join('')}` : 'latent')).join(', ')
    let resolved: WalkKeyframe[]
    const finding = progressPrinter(io, 'Finding directions', { unit: 'batches' })
    try {
      resolved = await resolveMoves(runDir, keyframes!, { ...backend, checkpoint: values.checkpoint, onProgress: (done, total) => finding.update(done, total) })
    } finally {
      finding.stop()
    }

    const progress = progressPrinter(io, 'Frames')
    let result
    try {
      result = await latentWalk(runDir, {
        ...backend,
        keyframes: resolved,
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
    const how = along !== undefined ? `seed ${keyframes![0]!.seed} along ${along}, ±${amount}` : `keyframes ${named}`
    io.out(`Wrote ${what} (${how}, ${fps} fps, step ${result.step}) to ${result.out}`)
    return 0
  })
}
