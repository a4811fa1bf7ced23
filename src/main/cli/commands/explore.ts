import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { backendFlag, parseNumberFlag, parseSeedList, progressPrinter, resolveRunDir, runCommand, type CommandIo } from '../../generate/cli'
import { exportCollection } from '../../explore/collection-export'
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
import { MAX_SEED, TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { readRun } from '../../trainer/run/runs'
import { parseChoice, parseIntFlag, UsageError } from '../io'

export const TIMELAPSE_USAGE = 'gan-studio explore timelapse <runDir> [--cell N] [--format gif|webp] [--fps N] [--hold seconds] [--max-frames N] [--width px] [--out file]'

export const FAVORITES_USAGE = 'gan-studio explore favorites <runDir> [--add 1,2,3] [--remove 4,5]'
export const COLLECTIONS_USAGE = 'gan-studio explore collections <runDir>'
export const COLLECTION_USAGE =
  'gan-studio explore collection <runDir> <name> [--add 1,2,3] [--remove 4,5] [--rename <new name>] [--delete] [--export [--out dir] [--truncation ψ] [--upscale 2|4] [--checkpoint step-NNNNNN]]'

const SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[], io: CommandIo) => Promise<number> }> = {
  timelapse: { usage: TIMELAPSE_USAGE, run: timelapse },
  favorites: { usage: FAVORITES_USAGE, run: favorites },
  collections: { usage: COLLECTIONS_USAGE, run: collections },
  collection: { usage: COLLECTION_USAGE, run: collection }
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
    const add = values.add !== undefined ? parseSeedList('add', values.add, MAX_SEED) : []
    const remove = new Set(values.remove !== undefined ? parseSeedList('remove', values.remove, MAX_SEED) : [])
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
    const add = values.add !== undefined ? parseSeedList('add', values.add, MAX_SEED) : []
    const remove = values.remove !== undefined ? parseSeedList('remove', values.remove, MAX_SEED) : []
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
