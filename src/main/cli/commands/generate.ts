import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SEED_MAX } from '@shared/config'
import { readFavorites } from '../../generate/favorites'
import { generateImages, type Upscale } from '../../generate/images'
import { TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { backendFlag, parseChoice, parseIntFlag, parseNumberFlag, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'

export const GENERATE_USAGE =
  'gan-studio generate <runDir> --count N [--seed S] [--truncation ψ] [--upscale 2|4] [--sheet] [--out dir] [--checkpoint step-NNNNNN] [--favorites] [--backend …]'

const MAX_COUNT = 10_000

/**
 * `gan-studio generate`: images for seeds S … S+N−1 (or the run's starred seeds with --favorites),
 * one PNG per seed named by its seed, from the EMA generator of the newest (or a chosen) checkpoint.
 */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('generate', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        count: { type: 'string', short: 'n' },
        seed: { type: 'string' },
        truncation: { type: 'string' },
        upscale: { type: 'string' },
        sheet: { type: 'boolean' },
        out: { type: 'string' },
        checkpoint: { type: 'string' },
        favorites: { type: 'boolean' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length !== 1) throw new UsageError(`generate needs one run folder. Usage: ${GENERATE_USAGE}`)
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const upscale = (parseChoice('upscale', values.upscale, [1, 2, 4] as const) ?? 1) as Upscale
    const backend = backendFlag(values.backend)
    let seeds: number[]
    if (values.favorites) {
      if (values.count !== undefined || values.seed !== undefined) throw new UsageError('--favorites makes the starred seeds; leave out --count and --seed')
    } else if (values.count === undefined) throw new UsageError(`--count is required. Usage: ${GENERATE_USAGE}`)
    const runDir = await resolveRunDir(positionals[0]!)
    if (values.favorites) {
      seeds = await readFavorites(runDir)
      if (seeds.length === 0) throw new UsageError('this run has no favourite seeds yet (star some in the studio’s Generate view)')
    } else {
      const count = parseIntFlag('count', values.count, 1, MAX_COUNT)!
      const first = parseIntFlag('seed', values.seed, 0, SEED_MAX) ?? 0
      if (first + count - 1 > SEED_MAX) throw new UsageError(`--seed ${first} with --count ${count} goes past the largest seed (${SEED_MAX})`)
      seeds = Array.from({ length: count }, (_, i) => first + i)
    }

    const progress = progressPrinter(io, 'Generating')
    let result
    try {
      result = await generateImages(runDir, {
        ...backend,
        seeds,
        truncation,
        upscale,
        sheet: values.sheet ?? false,
        checkpoint: values.checkpoint,
        collection: values.favorites ? 'favorites' : 'images',
        outDir: values.out !== undefined ? resolve(values.out) : undefined,
        onProgress: seeds.length > 64 ? progress.update : undefined
      })
    } finally {
      progress.stop()
    }
    const range = values.favorites ? `${seeds.length} favourite seeds` : seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}–${seeds[seeds.length - 1]}`
    io.out(
      `Wrote ${result.images.length} image${result.images.length === 1 ? '' : 's'} (${range}, step ${result.step}, ψ ${formatPsi(truncation)}, ${result.resolution}×${result.resolution}) to ${result.outDir}`
    )
    if (result.sheet?.file) io.out(`Contact sheet: ${result.sheet.file}`)
    return 0
  })
}

function formatPsi(psi: number): string {
  return Number.isInteger(psi) ? String(psi) : String(Math.round(psi * 1000) / 1000)
}
