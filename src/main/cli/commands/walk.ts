import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SEED_MAX } from '@shared/config'
import type { Upscale } from '../../generate/images'
import { TRUNCATION_MAX, TRUNCATION_MIN } from '../../generate/latent'
import { latentWalk, WALK_FORMATS, type WalkFormat } from '../../generate/walk'
import { backendFlag, parseChoice, parseIntFlag, parseNumberFlag, parseSeedList, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'
import { progressPrinter } from '../progress'

export const WALK_USAGE =
  'gan-studio walk <runDir> --seeds 1,2,3 [--seconds N] [--fps N] [--format gif|webp|png] [--out file] [--truncation ψ] [--upscale 2|4] [--checkpoint step-NNNNNN]'

/** `gan-studio walk`: a looping latent walk through keyframe seeds, as GIF, WebP or PNG frames. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('walk', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        seeds: { type: 'string' },
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
    if (values.seeds === undefined) throw new UsageError(`--seeds is required (two or more keyframe seeds, e.g. --seeds 1,2,3)`)
    const seeds = parseSeedList('seeds', values.seeds, SEED_MAX)
    if (seeds.length < 2 || seeds.length > 64) throw new UsageError(`--seeds needs 2 to 64 keyframe seeds (got ${seeds.length})`)
    const seconds = parseNumberFlag('seconds', values.seconds, 0.1, 600) ?? 4
    const fps = parseIntFlag('fps', values.fps, 1, 60) ?? 24
    const truncation = parseNumberFlag('truncation', values.truncation, TRUNCATION_MIN, TRUNCATION_MAX) ?? 1
    const upscale = (parseChoice('upscale', values.upscale, [1, 2, 4] as const) ?? 1) as Upscale
    const fromExt = values.out ? WALK_FORMATS.find((f) => f !== 'png' && extname(values.out!).toLowerCase() === `.${f}`) : undefined
    const format: WalkFormat = parseChoice('format', values.format, WALK_FORMATS) ?? fromExt ?? 'gif'
    if (fromExt && fromExt !== format) throw new UsageError(`--out ends in .${fromExt} but --format is ${format}`)
    const backend = backendFlag(values.backend)
    const runDir = await resolveRunDir(positionals[0]!)

    const progress = progressPrinter(io, 'Frames')
    let result
    try {
      result = await latentWalk(runDir, {
        ...backend,
        seeds,
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
    const what = format === 'png' ? `${result.frames} PNG frames` : `${result.frames}-frame looping ${format.toUpperCase()}`
    io.out(`Wrote a ${what} (keyframes ${seeds.join(', ')}, ${fps} fps, step ${result.step}) to ${result.out}`)
    return 0
  })
}
