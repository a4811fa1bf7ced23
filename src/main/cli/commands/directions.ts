import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { SEED_MAX } from '@shared/config'
import { MAX_DIRECTIONS, parseAmounts, parseDirectionRef, type SavedDirection } from '@shared/directions'
import { directionStrip, MAX_SAMPLES, MIN_SAMPLES, runDirections, type DirectionsOptions } from '../../generate/explore/directions'
import type { LatentSource } from '../../generate/explore/render'
import { checkDirectionName, deleteDirection, findSavedDirection, readSavedDirections, renameDirection, saveDirection } from '../../generate/explore/saved-directions'
import { TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { withPngText } from '../../generate/png-text'
import { gridPng } from '../../trainer/run/grid'
import { readRun } from '../../trainer/run/runs'
import { writeFileAtomic } from '../../util/fs'
import { backendFlag, parseIntFlag, parseNumberFlag, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'

/**
 * `gan-studio explore directions | apply | direction`: a run's principal directions (computed
 * once per checkpoint and cached in the run folder), a strip of images along one of them, and the
 * directions saved by name in the run folder. Walks use them through `gan-studio walk` (keyframes
 * like `42+smile:2`, or `--along`).
 */

export const DIRECTIONS_USAGE = 'gan-studio explore directions <runDir> [--count N] [--checkpoint step-NNNNNN] [--samples N] [--recompute] [--json]'
export const APPLY_USAGE =
  'gan-studio explore apply <runDir> (--seed S | --from-png image.png) --direction <N|pcN|name> [--amounts -3,-1.5,0,1.5,3] [--truncation ψ] [--checkpoint step-NNNNNN] --out dir'
export const DIRECTION_USAGE =
  'gan-studio explore direction <runDir> <name> [--save --component N [--flip] [--scale X] [--checkpoint step-NNNNNN]] [--rename <new name>] [--delete]'

type CenterFromPng = (file: string) => Promise<LatentSource>

/** Where the computing of principal directions reports to (a bar on a terminal, else a line now and then). */
function withProgress(io: CommandIo, opts: DirectionsOptions): { opts: DirectionsOptions; stop: () => void } {
  const progress = progressPrinter(io, 'Finding directions', { unit: 'batches' })
  return { opts: { ...opts, onProgress: (done, total) => progress.update(done, total) }, stop: () => progress.stop() }
}

/** `--amounts -3,0,3`: a value that starts with a minus sign is still the flag's value (parseArgs would take it for a flag). */
function negativeValues(argv: string[], flags: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1]
    if (flags.includes(argv[i]!) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${argv[i]}=${next}`)
      i++
    } else out.push(argv[i]!)
  }
  return out
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`

function describeSaved(d: SavedDirection): string {
  const from = d.component !== null ? `PC${d.component}${d.step !== null ? ` of step ${d.step}` : ''}` : 'a mix of sliders'
  return `${d.name} (${from}${d.scale !== 1 ? `, ×${d.scale}` : ''})`
}

/** `explore directions`: lists the run's principal directions (computing them the first time) and its saved ones. */
export async function directionsCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore directions', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        count: { type: 'string' },
        checkpoint: { type: 'string' },
        samples: { type: 'string' },
        recompute: { type: 'boolean' },
        json: { type: 'boolean' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`directions needs one run folder. Usage: ${DIRECTIONS_USAGE}`)
    const count = parseIntFlag('count', values.count, 1, MAX_DIRECTIONS) ?? 10
    const samples = parseIntFlag('samples', values.samples, MIN_SAMPLES, MAX_SAMPLES)
    const runDir = await resolveRunDir(positionals[0]!)
    const run = await readRun(runDir)
    const { opts, stop } = withProgress(values.json ? { out: () => undefined, err: io.err } : io, {
      ...backendFlag(values.backend),
      count,
      checkpoint: values.checkpoint,
      recompute: values.recompute,
      ...(samples !== undefined ? { samples } : {})
    })
    let found
    try {
      found = await runDirections(runDir, opts)
    } finally {
      stop()
    }
    const saved = await readSavedDirections(runDir)
    if (values.json) {
      const { file: _file, ...info } = found
      void _file
      io.out(JSON.stringify({ run: run.id, ...info, saved }, null, 2))
      return 0
    }
    const how = found.cached ? 'from the cache' : `computed in ${(found.ms / 1000).toFixed(1)} s`
    io.out(`Principal directions of “${run.name}” at step ${found.step} (${how}; ${found.samples} samples, ${found.featureDim} early features):`)
    const top = found.components[0]?.explained ?? 1
    for (const c of found.components) {
      const bar = '█'.repeat(Math.max(1, Math.round((c.explained / top) * 20)))
      io.out(`  PC${String(c.component).padEnd(3)} ${percent(c.explained).padStart(6)}  ${bar}`)
    }
    io.out(saved.length ? `Saved directions (${saved.length}): ${saved.map(describeSaved).join(', ')}` : 'No saved directions yet. Save one with: gan-studio explore direction <runDir> "<name>" --save --component N')
    return 0
  })
}

/** `explore apply`: one image per amount along a direction, each PNG carrying its latent, plus a strip. */
export async function applyCommand(argv: string[], io: CommandIo, centerFromPng: CenterFromPng): Promise<number> {
  return runCommand('explore apply', io, async () => {
    const { values, positionals } = parseArgs({
      args: negativeValues(argv, ['--amounts']),
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: 'string' },
        'from-png': { type: 'string' },
        direction: { type: 'string' },
        amounts: { type: 'string' },
        truncation: { type: 'string' },
        checkpoint: { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`apply needs one run folder. Usage: ${APPLY_USAGE}`)
    if ((values.seed === undefined) === (values['from-png'] === undefined)) throw new UsageError('give either --seed S or --from-png image.png (the image to move)')
    if (values.direction === undefined || !values.direction.trim()) throw new UsageError('--direction is required: a principal direction (1, pc2…) or a saved direction’s name')
    if (values.out === undefined) throw new UsageError('--out is required (a folder for the images)')
    const parsed = parseAmounts(values.amounts ?? '-3,-1.5,0,1.5,3')
    if (parsed.error) throw new UsageError(`--amounts: ${parsed.error}`)
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const center: LatentSource = values.seed !== undefined ? { seed: parseIntFlag('seed', values.seed, 0, SEED_MAX)! } : await centerFromPng(resolve(values['from-png']!))
    const runDir = await resolveRunDir(positionals[0]!)
    const out = resolve(values.out)
    const { opts, stop } = withProgress(io, { ...backendFlag(values.backend), checkpoint: values.checkpoint })
    let r
    try {
      r = await directionStrip(runDir, { ...opts, center, direction: parseDirectionRef(values.direction), amounts: parsed.amounts, truncation })
    } finally {
      stop()
    }
    const what = center.seed !== undefined ? `seed ${center.seed}` : 'a stored latent'
    const files: string[] = []
    for (const [i, img] of r.images.entries()) {
      // In the order given (the folder lists them as the strip shows them).
      const name = `${String(i + 1).padStart(2, '0')}-amount${img.amount >= 0 ? '+' : '-'}${Math.abs(img.amount).toFixed(2)}.png`
      const meta: Record<string, string> = {
        Software: 'GAN Studio',
        Title: `${what} along ${r.direction.label}, ${img.amount}`,
        checkpoint: r.checkpoint,
        step: String(r.step),
        direction: r.direction.label,
        amount: String(img.amount),
        psi: String(truncation),
        latent: img.latent.join(','),
        ...(center.seed !== undefined ? { 'source-seed': String(center.seed) } : {})
      }
      await writeFileAtomic(join(out, name), withPngText(img.png, meta))
      files.push(name)
    }
    const raws = await Promise.all(r.images.map((i) => sharp(i.png).removeAlpha().raw().toBuffer({ resolveWithObject: true })))
    const size = raws[0]!.info.width
    const pixels = new Uint8Array(raws.length * size * size * 3)
    raws.forEach((x, i) => pixels.set(x.data, i * size * size * 3))
    await writeFileAtomic(join(out, 'strip.png'), await gridPng(pixels, raws.length, size, { columns: raws.length }))
    io.out(`Wrote ${files.length} images of ${what} along ${r.direction.label} (amounts ${parsed.amounts.join(', ')}; step ${r.step}) and strip.png to ${out}`)
    return 0
  })
}

/** `explore direction`: shows, saves, renames or deletes one saved direction. */
export async function directionCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore direction', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        save: { type: 'boolean' },
        component: { type: 'string' },
        flip: { type: 'boolean' },
        scale: { type: 'string' },
        checkpoint: { type: 'string' },
        rename: { type: 'string' },
        delete: { type: 'boolean' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 2) throw new UsageError(`direction needs a run folder and a direction name. Usage: ${DIRECTION_USAGE}`)
    const name = positionals[1]!
    const actions = [values.save, values.rename !== undefined, values.delete].filter(Boolean).length
    if (actions > 1) throw new UsageError('give one of --save, --rename or --delete')
    if (!values.save && (values.component !== undefined || values.flip || values.scale !== undefined)) throw new UsageError('--component, --flip and --scale go with --save')
    const component = parseIntFlag('component', values.component, 1, MAX_DIRECTIONS)
    const scale = parseNumberFlag('scale', values.scale, 0.01, 100) ?? 1
    if (values.save) {
      checkDirectionName(name)
      if (component === undefined) throw new UsageError('--save needs --component N (the principal direction to save, see gan-studio explore directions)')
    }
    const runDir = await resolveRunDir(positionals[0]!)
    if (values.delete) {
      await deleteDirection(runDir, name)
      io.out(`Deleted the direction “${name.trim()}”.`)
      return 0
    }
    if (values.rename !== undefined) {
      const list = await renameDirection(runDir, name, values.rename)
      io.out(`Renamed it: ${describeSaved(findSavedDirection(list, values.rename))}`)
      return 0
    }
    if (values.save) {
      const run = await readRun(runDir)
      const { opts, stop } = withProgress(io, { ...backendFlag(values.backend), checkpoint: values.checkpoint, count: MAX_DIRECTIONS })
      let found
      try {
        found = await runDirections(runDir, opts)
      } finally {
        stop()
      }
      const c = found.components[component! - 1]
      if (!c) throw new UsageError(`--component: this run has ${found.components.length} principal directions`)
      const list = await saveDirection(
        runDir,
        { name, vector: values.flip ? c.vector.map((v) => -v) : c.vector, scale, component: c.component, checkpoint: found.checkpoint, step: found.step },
        { latentDim: run.config.model.latentDim }
      )
      io.out(`Saved ${describeSaved(findSavedDirection(list, name))}${values.flip ? ', flipped' : ''}.`)
      return 0
    }
    io.out(describeSaved(findSavedDirection(await readSavedDirections(runDir), name)))
    return 0
  })
}
