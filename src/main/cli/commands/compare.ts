import { parseArgs } from 'node:util'
import { compareRuns, MAX_COMPARE, MIN_COMPARE } from '../../trainer/run/compare'
import { formatDuration, parseIntFlag, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'

export const COMPARE_USAGE = 'gan-studio compare <runDir> <runDir> … [--step N]   (2 to 6 runs)'

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd())
}

function shorten(text: string, max = 28): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return JSON.stringify(value)
}

const num = (v: number | null, digits = 3): string => (v === null ? '-' : v.toFixed(digits))

/** `gan-studio compare`: the summary table, then only the settings that differ. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('compare', io, async () => {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { step: { type: 'string' } } })
    if (positionals.length < MIN_COMPARE || positionals.length > MAX_COMPARE)
      throw new UsageError(`compare takes ${MIN_COMPARE} to ${MAX_COMPARE} run folders (got ${positionals.length}). Usage: ${COMPARE_USAGE}`)
    const step = parseIntFlag('step', values.step, 0, 100_000_000)
    const dirs: string[] = []
    for (const p of positionals) dirs.push(await resolveRunDir(p))
    const result = await compareRuns(dirs, { step })

    const labels = result.summary.map((s, i) => `${i + 1}. ${shorten(s.name)}`)
    const rows = [['RUN', 'STEPS', 'TIME', 'IMG/S', 'G LOSS', 'D LOSS', 'SWD', 'VARIETY', 'GRID', 'FOLDER']]
    result.summary.forEach((s, i) => {
      const grid = result.grids[i]
      const q = s.quality
      rows.push([labels[i]!, String(s.steps), formatDuration(s.trainingMs), s.imagesPerSec === null ? '-' : String(s.imagesPerSec), num(s.finalGLoss), num(s.finalDLoss), q ? q.swd.toFixed(1) : '-', q ? num(q.variety, 2) : '-', grid ? grid.file : '-', result.runs[i]!.dir])
    })
    for (const line of table(rows)) io.out(line)
    io.out('')
    if (result.configDiff.length === 0) {
      io.out('No settings differ.')
      return 0
    }
    io.out(`Settings that differ (${result.configDiff.length}):`)
    const diffRows = [['SETTING', ...labels.map((l) => l.split('.')[0]!)]]
    for (const d of result.configDiff) diffRows.push([d.key, ...d.values.map((v) => shorten(show(v), 40))])
    for (const line of table(diffRows)) io.out(line)
    return 0
  })
}
