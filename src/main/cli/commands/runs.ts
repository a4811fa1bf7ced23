import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { RunSummary } from '@shared/runs'
import { printable } from '@shared/text'
import { readLatestQuality } from '../../trainer/quality/records'
import { listRuns } from '../../trainer/run/runs'
import { runsDir } from '../../util/home'
import { UsageError, type CliIo } from '../io'

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd())
}

/** One word or two for the STATUS column: a run whose process died shows as interrupted, never `running`. */
export function statusText(r: RunSummary): string {
  if (r.damaged) return r.resumable ? 'damaged (resumable)' : 'damaged'
  if (r.status === 'failed' && r.error?.code === 'crashed') return r.resumable ? 'interrupted (resumable)' : 'interrupted'
  if (r.status === 'failed' || (r.resumable && r.status !== 'running')) return `${r.status}${r.resumable ? ' (resumable)' : ''}`
  return r.status
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} })
  if (positionals.length > 1) throw new UsageError('Usage: gan-studio runs [<runsDir>]')
  const dir = positionals[0] ? resolve(positionals[0]) : runsDir()
  const runs = await listRuns(dir)
  if (runs.length === 0) {
    io.out(`No runs in ${printable(dir)}`)
    return 0
  }
  const rows = [['NAME', 'STATUS', 'STEP', 'RES', 'SWD', 'VARIETY', 'BACKEND', 'DATASET', 'CREATED', 'FOLDER']]
  const notes: string[] = []
  for (const r of runs) {
    // The newest quality measurement (SWD: lower is better; variety: ≈1 healthy, near 0 collapse).
    const q = r.damaged ? null : await readLatestQuality(r.dir).catch(() => null)
    const swd = q ? q.swd.toFixed(1) : '-'
    const variety = q && q.variety !== null ? q.variety.toFixed(2) : '-'
    rows.push(
      [
        r.name,
        statusText(r),
        `${r.step}/${r.steps}`,
        r.resolution ? `${r.resolution}` : '-',
        swd,
        variety,
        r.backend ?? '-',
        r.datasetName || '-',
        r.createdAt.slice(0, 16).replace('T', ' '),
        r.dir
      ].map((cell) => printable(cell))
    )
    if (r.damaged) notes.push(`${printable(r.dir)}: ${printable(r.damaged.reason)} ${printable(r.damaged.recovery)}`)
  }
  for (const line of table(rows)) io.out(line)
  if (notes.length > 0) {
    io.out('')
    for (const note of notes) io.out(`damaged: ${note}`)
  }
  return 0
}
