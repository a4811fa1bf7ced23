import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseNumberFlag, progressPrinter, resolveRunDir, runCommand, type CommandIo } from '../../generate/cli'
import { TIMELAPSE_FORMATS, trainingTimelapse, type TimelapseFormat } from '../../explore/timelapse'
import { parseChoice, parseIntFlag, UsageError } from '../io'

export const TIMELAPSE_USAGE = 'gan-studio explore timelapse <runDir> [--cell N] [--format gif|webp] [--fps N] [--hold seconds] [--max-frames N] [--width px] [--out file]'

const SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[], io: CommandIo) => Promise<number> }> = {
  timelapse: { usage: TIMELAPSE_USAGE, run: timelapse }
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
