import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { exportCollection } from '../../generate/explore/collection-export'
import type { LatentSource } from '../../generate/explore/render'
import { makeVariations, MAX_VARIATIONS } from '../../generate/explore/variations'
import { findCommand, FIND_USAGE } from './explore-find'
import { readPngText, withPngText } from '../../generate/png-text'
import { gridPng } from '../../trainer/run/grid'
import { writeFileAtomic } from '../../util/fs'
import sharp from 'sharp'
import { TIMELAPSE_FORMATS, trainingTimelapse, type TimelapseFormat } from '../../explore/timelapse'
import {
  addToCollection,
  createCollection,
  deleteCollection,
  readFavoritesFile,
  removeFromCollection,
  renameCollection,
  writeFavorites,
  type Collection
} from '../../generate/favorites'
import type { Upscale } from '../../generate/images'
import { TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { SEED_MAX } from '@shared/config'
import { readRun } from '../../trainer/run/runs'
import { backendFlag, parseChoice, parseIntFlag, parseNumberFlag, parseSeedList, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'
import { APPLY_USAGE, applyCommand, DIRECTION_USAGE, directionCommand, DIRECTIONS_USAGE, directionsCommand } from './directions'

export const TIMELAPSE_USAGE = 'gan-studio explore timelapse <runDir> [--cell N] [--format gif|webp] [--fps N] [--hold seconds] [--max-frames N] [--width px] [--out file]'

export const FAVORITES_USAGE = 'gan-studio explore favorites <runDir> [--add 1,2,3] [--remove 4,5]'
export const COLLECTIONS_USAGE = 'gan-studio explore collections <runDir>'
export const COLLECTION_USAGE =
  'gan-studio explore collection <runDir> <name> [--add 1,2,3] [--remove 4,5] [--rename <new name>] [--delete] [--export [--out dir] [--truncation ψ] [--upscale 2|4] [--checkpoint step-NNNNNN]]'

export const VARIATIONS_USAGE =
  'gan-studio explore variations <runDir> (--seed S | --from-png image.png) [--strength 0..1] [--count N] [--variation-seed V] [--truncation ψ] [--checkpoint step-NNNNNN] --out dir'

const SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[], io: CommandIo) => Promise<number> }> = {
  timelapse: { usage: TIMELAPSE_USAGE, run: timelapse },
  favorites: { usage: FAVORITES_USAGE, run: favorites },
  collections: { usage: COLLECTIONS_USAGE, run: collections },
  collection: { usage: COLLECTION_USAGE, run: collection },
  variations: { usage: VARIATIONS_USAGE, run: variations },
  directions: { usage: DIRECTIONS_USAGE, run: directionsCommand },
  apply: { usage: APPLY_USAGE, run: (argv, io) => applyCommand(argv, io, centerFromPng) },
  direction: { usage: DIRECTION_USAGE, run: directionCommand },
  find: { usage: FIND_USAGE, run: findCommand }
}

export const EXPLORE_USAGE = ['gan-studio explore <tool> …', ...Object.values(SUBCOMMANDS).map((s) => `  ${s.usage}`)].join('\n')

/** `gan-studio explore <tool>`: what a trained run can do beyond generating seeds. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--help' || name === '-h') {
    io.out(EXPLORE_USAGE)
    return 0
  }
  const sub = name ? SUBCOMMANDS[name] : undefined
  if (!sub) {
    io.err(`gan-studio explore: ${name ? `unknown tool "${name}"` : 'which tool?'} (tools: ${Object.keys(SUBCOMMANDS).join(', ')})`)
    return 2
  }
  return sub.run(rest, io)
}

/** `explore timelapse`: the run's sample grids (or one cell), oldest first, as a looping GIF/WebP. */
async function timelapse(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore timelapse', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        cell: { type: 'string' },
        format: { type: 'string' },
        fps: { type: 'string' },
        hold: { type: 'string' },
        'max-frames': { type: 'string' },
        width: { type: 'string' },
        out: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`timelapse needs one run folder. Usage: ${TIMELAPSE_USAGE}`)
    const cell = parseIntFlag('cell', values.cell, 0, 63)
    const fps = parseNumberFlag('fps', values.fps, 0.1, 60) ?? 6
    const holdSeconds = parseNumberFlag('hold', values.hold, 0, 60) ?? 1.5
    const maxFrames = parseIntFlag('max-frames', values['max-frames'], 2, 5000) ?? 240
    const maxWidth = parseIntFlag('width', values.width, 64, 4096) ?? 800
    const fromExt = values.out ? TIMELAPSE_FORMATS.find((f) => extname(values.out!).toLowerCase() === `.${f}`) : undefined
    const format: TimelapseFormat = parseChoice('format', values.format, TIMELAPSE_FORMATS) ?? fromExt ?? 'gif'
    if (fromExt && fromExt !== format) throw new UsageError(`--out ends in .${fromExt} but --format is ${format}`)
    const runDir = await resolveRunDir(positionals[0]!)

    const progress = progressPrinter(io, 'Grids')
    let result
    try {
      result = await trainingTimelapse(runDir, {
        cell,
        format,
        fps,
        holdSeconds,
        maxFrames,
        maxWidth,
        out: values.out !== undefined ? resolve(values.out) : undefined,
        onProgress: (p) => {
          if (p.phase === 'read') progress.update(p.done, p.total)
        }
      })
    } finally {
      progress.stop()
    }
    const first = result.steps[0]!
    const last = result.steps[result.steps.length - 1]!
    io.out(
      `Wrote a ${result.steps.length}-frame ${format.toUpperCase()} timelapse (${cell === undefined ? 'whole grid' : `cell ${cell}`}, steps ${first}–${last}, ${result.width}×${result.height}) to ${result.out}`
    )
    return 0
  })
}

function describeItems(c: Collection): string {
  const seeds = c.items.filter((i) => i.seed !== null).map((i) => i.seed)
  const latents = c.items.length - seeds.length
  const parts = [seeds.length ? `seeds ${seeds.join(', ')}` : '', latents ? `${latents} latent${latents === 1 ? '' : 's'}` : ''].filter(Boolean)
  return parts.join(' + ') || 'empty'
}

/** `explore favorites`: the run's starred seeds; --add / --remove change them. */
async function favorites(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore favorites', io, async () => {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { add: { type: 'string' }, remove: { type: 'string' } } })
    if (positionals.length !== 1) throw new UsageError(`favorites needs one run folder. Usage: ${FAVORITES_USAGE}`)
    const add = values.add !== undefined ? parseSeedList('add', values.add, SEED_MAX) : []
    const remove = new Set(values.remove !== undefined ? parseSeedList('remove', values.remove, SEED_MAX) : [])
    const runDir = await resolveRunDir(positionals[0]!)
    let seeds = (await readFavoritesFile(runDir)).seeds
    if (add.length || remove.size) seeds = await writeFavorites(runDir, [...seeds, ...add].filter((s) => !remove.has(s)))
    io.out(seeds.length ? `Favourite seeds (${seeds.length}): ${seeds.join(', ')}` : 'No favourite seeds yet.')
    return 0
  })
}

/** `explore collections`: the run's named collections with what they hold. */
async function collections(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore collections', io, async () => {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} })
    if (positionals.length !== 1) throw new UsageError(`collections needs one run folder. Usage: ${COLLECTIONS_USAGE}`)
    const runDir = await resolveRunDir(positionals[0]!)
    const file = await readFavoritesFile(runDir)
    if (file.collections.length === 0) io.out('No collections yet. Make one with: gan-studio explore collection <runDir> "<name>" --add 1,2,3')
    for (const c of file.collections) io.out(`${c.name} (${c.items.length} item${c.items.length === 1 ? '' : 's'}): ${describeItems(c)}`)
    return 0
  })
}

/** `explore collection`: shows, fills, renames, deletes or exports one named collection. */
async function collection(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore collection', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        add: { type: 'string' },
        remove: { type: 'string' },
        rename: { type: 'string' },
        delete: { type: 'boolean' },
        export: { type: 'boolean' },
        out: { type: 'string' },
        truncation: { type: 'string' },
        upscale: { type: 'string' },
        checkpoint: { type: 'string' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 2) throw new UsageError(`collection needs a run folder and a collection name. Usage: ${COLLECTION_USAGE}`)
    const name = positionals[1]!
    const add = values.add !== undefined ? parseSeedList('add', values.add, SEED_MAX) : []
    const remove = values.remove !== undefined ? parseSeedList('remove', values.remove, SEED_MAX) : []
    if (values.delete && (add.length || remove.length || values.rename !== undefined || values.export))
      throw new UsageError('--delete cannot be combined with other changes')
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const upscale = (parseChoice('upscale', values.upscale, [1, 2, 4] as const) ?? 1) as Upscale
    const runDir = await resolveRunDir(positionals[0]!)

    if (values.delete) {
      await deleteCollection(runDir, name)
      io.out(`Deleted the collection "${name}".`)
      return 0
    }
    let current = name
    let file = await readFavoritesFile(runDir)
    const exists = file.collections.some((c) => c.name.localeCompare(name, undefined, { sensitivity: 'accent' }) === 0)
    if (!exists && !add.length) {
      if (remove.length || values.rename !== undefined || values.export) throw new UsageError(`There is no collection "${name}" in this run.`)
      file = await createCollection(runDir, name)
    }
    if (add.length) {
      const run = await readRun(runDir)
      file = await addToCollection(runDir, name, add.map((seed) => ({ seed })), { latentDim: run.config.model.latentDim, create: true })
    }
    if (remove.length) file = await removeFromCollection(runDir, name, { seeds: remove })
    if (values.rename !== undefined) {
      file = await renameCollection(runDir, name, values.rename)
      current = values.rename.trim()
    }
    const c = file.collections.find((o) => o.name.localeCompare(current, undefined, { sensitivity: 'accent' }) === 0)!
    io.out(`${c.name} (${c.items.length} item${c.items.length === 1 ? '' : 's'}): ${describeItems(c)}`)
    if (values.export) {
      const progress = progressPrinter(io, 'Images')
      try {
        const r = await exportCollection(runDir, c.name, {
          ...backendFlag(values.backend),
          truncation,
          upscale,
          checkpoint: values.checkpoint,
          out: values.out !== undefined ? resolve(values.out) : undefined,
          onProgress: (done, total) => progress.update(done, total)
        })
        progress.stop()
        io.out(`Wrote ${r.files.length} image${r.files.length === 1 ? '' : 's'} (step ${r.step}) to ${r.dir}`)
      } finally {
        progress.stop()
      }
    }
    return 0
  })
}

/** The latent (or seed) an image made by GAN Studio carries in its PNG text. */
async function centerFromPng(file: string): Promise<LatentSource> {
  let text: Record<string, string>
  try {
    text = readPngText(await fsp.readFile(file))
  } catch (err) {
    throw new UsageError(`--from-png: cannot read ${file} (${(err as Error).message.split('\n')[0]})`)
  }
  if (text.latent) {
    const latent = text.latent.split(',').map(Number)
    if (latent.length > 0 && latent.every(Number.isFinite)) return { latent }
  }
  if (text.seed && /^\d+$/.test(text.seed)) return { seed: Number(text.seed) }
  throw new UsageError(`--from-png: ${file} holds no GAN Studio seed or latent (only images made by GAN Studio can be varied)`)
}

/** `explore variations`: a centre image and its neighbours, each PNG carrying its latent, plus a sheet. */
async function variations(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore variations', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: 'string' },
        'from-png': { type: 'string' },
        strength: { type: 'string' },
        count: { type: 'string' },
        'variation-seed': { type: 'string' },
        truncation: { type: 'string' },
        checkpoint: { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`variations needs one run folder. Usage: ${VARIATIONS_USAGE}`)
    if ((values.seed === undefined) === (values['from-png'] === undefined)) throw new UsageError('give either --seed S or --from-png image.png (the image to vary)')
    if (values.out === undefined) throw new UsageError('--out is required (a folder for the images)')
    const strength = parseNumberFlag('strength', values.strength, 0, 1) ?? 0.3
    const count = parseIntFlag('count', values.count, 1, MAX_VARIATIONS) ?? 8
    const variationSeed = parseIntFlag('variation-seed', values['variation-seed'], 0, SEED_MAX) ?? 0
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const center: LatentSource = values.seed !== undefined ? { seed: parseIntFlag('seed', values.seed, 0, SEED_MAX)! } : await centerFromPng(resolve(values['from-png']!))
    const runDir = await resolveRunDir(positionals[0]!)
    const out = resolve(values.out)
    const r = await makeVariations(runDir, { ...backendFlag(values.backend), center, strength, count, variationSeed, truncation, checkpoint: values.checkpoint })
    const what = center.seed !== undefined ? `seed ${center.seed}` : 'a stored latent'
    const meta = (latent: Float32Array, title: string): Record<string, string> => ({
      Software: 'GAN Studio',
      Title: title,
      checkpoint: r.checkpoint,
      step: String(r.step),
      strength: String(strength),
      'variation-seed': String(variationSeed),
      psi: String(truncation),
      latent: Array.from(latent).join(',')
    })
    await writeFileAtomic(join(out, 'center.png'), withPngText(r.center.png, { ...meta(r.center.latent, `centre (${what})`), ...(center.seed !== undefined ? { seed: String(center.seed) } : {}) }))
    for (let i = 0; i < r.neighbours.length; i++) {
      const v = r.neighbours[i]!
      await writeFileAtomic(join(out, `variation-${String(i + 1).padStart(2, '0')}.png`), withPngText(v.png, meta(v.latent, `variation ${i + 1} of ${what}`)))
    }
    const raws = await Promise.all([r.center, ...r.neighbours].map((v) => sharp(v.png).removeAlpha().raw().toBuffer({ resolveWithObject: true })))
    const size = raws[0]!.info.width
    const pixels = new Uint8Array(raws.length * size * size * 3)
    raws.forEach((x, i) => pixels.set(x.data, i * size * size * 3))
    await writeFileAtomic(join(out, 'sheet.png'), await gridPng(pixels, raws.length, size))
    io.out(`Wrote the centre and ${r.neighbours.length} variations of ${what} (strength ${strength}, step ${r.step}) and sheet.png to ${out}`)
    return 0
  })
}
