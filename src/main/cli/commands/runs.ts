import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { readLatestQuality } from '../../trainer/quality/records'
import { listRuns } from '../../trainer/run/runs'
import { runsDir } from '../../util/home'
import { UsageError, type CliIo } from '../io'

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd())
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} })
  if (positionals.length > 1) throw new UsageError('Usage: gan-studio runs [<runsDir>]')
  const dir = positionals[0] ? resolve(positionals[0]) : runsDir()
  const runs = await listRuns(dir)
  if (runs.length === 0) {
    io.out(`No runs in ${dir}`)
    return 0
  }
  const rows = [['NAME', 'STATUS', 'STEP', 'RES', 'SWD', 'VARIETY', 'BACKEND', 'DATASET', 'CREATED', 'FOLDER']]
  for (const r of runs) {
    const status = r.status === 'failed' || (r.resumable && r.status !== 'running') ? `${r.status}${r.resumable ? ' (resumable)' : ''}` : r.status
    // The newest quality measurement (SWD: lower is better; variety: ≈1 healthy, near 0 collapse).
    const q = await readLatestQuality(r.dir)
    const swd = q ? q.swd.toFixed(1) : '-'
    const variety = q && q.variety !== null ? q.variety.toFixed(2) : '-'
    rows.push([r.name, status, `${r.step}/${r.steps}`, `${r.resolution}`, swd, variety, r.backend ?? '-', r.datasetName, r.createdAt.slice(0, 16).replace('T', ' '), r.dir])
  }
  for (const line of table(rows)) io.out(line)
  return 0
}
