import { describe, expect, it, vi } from 'vitest'
import { printable, terminalSafe } from '@shared/text'
import { RunConfigSchema } from '@shared/config'
import type { DatasetJson } from '@shared/datasets'
import { printDatasetSummary } from '../../src/main/cli/commands/train'
import { run as runsCommand } from '../../src/main/cli/commands/runs'
import { processIo, type CliIo } from '../../src/main/cli/io'
import { createRun } from '../../src/main/trainer/run/runs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Names from disk or from a request are printed with their control characters escaped. */

const HOSTILE = 'cat\x1b[2J\x1b[31m\rOK\u202e.jpg\x07\nline'
/** Control characters other than newline and tab (which the CLI's own multi-line text uses). */
const controls = (text: string): boolean =>
  [...text].some((c) => {
    const n = c.codePointAt(0)!
    return (n < 0x20 && n !== 0x0a && n !== 0x09) || (n >= 0x7f && n <= 0x9f) || n === 0x202e
  })

function capture(): { io: CliIo; lines: string[] } {
  const lines: string[] = []
  return { io: { out: (l) => lines.push(l), err: (l) => lines.push(l), tty: false }, lines }
}

describe('printable', () => {
  it('escapes C0, C1, DEL, bidi overrides and line breaks; leaves other text alone', () => {
    expect(printable(HOSTILE)).toBe('cat\\x1b[2J\\x1b[31m\\rOK\\u202e.jpg\\x07\\nline')
    expect(printable('Ünïcødé 猫 photo (1).jpg')).toBe('Ünïcødé 猫 photo (1).jpg')
    expect(printable('C:\\Users\\me')).toBe('C:\\Users\\me')
    expect(terminalSafe(`usage:\n\tgan-studio ${HOSTILE}`)).toBe('usage:\n\tgan-studio cat\\x1b[2J\\x1b[31m\\rOK\\u202e.jpg\\x07\nline')
  })

  it('a skipped file named with escapes is printed escaped by the CLI', () => {
    const { io, lines } = capture()
    const dataset = { name: HOSTILE, count: 1, resolution: 32, duplicates: 0, skipped: [{ file: HOSTILE, reason: `damaged (${HOSTILE})` }] } as unknown as DatasetJson
    printDatasetSummary(dataset, io)
    expect(lines.length).toBe(2)
    for (const line of lines) expect(controls(line), line).toBe(false)
    expect(lines[1]).toContain('cat\\x1b[2J')
  })

  it('the run list escapes run names and folders', async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'gs-text-'))
    await createRun({ runsDir, config: RunConfigSchema.parse({ source: '/x', name: 'evil\x1b]0;owned\x07\rname' }), dataset: { id: 'd', name: HOSTILE, count: 1 } as DatasetJson })
    const { io, lines } = capture()
    await runsCommand([runsDir], io)
    for (const line of lines) expect(controls(line), line).toBe(false)
    expect(lines.join('\n')).toContain('evil\\x1b]0;owned\\x07\\rname')
  })

  it('everything the CLI prints passes through the escaping', () => {
    const written: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    try {
      processIo.out(`Run folder: /runs/${HOSTILE}`)
    } finally {
      spy.mockRestore()
    }
    expect(controls(written.join(''))).toBe(false)
  })
})
