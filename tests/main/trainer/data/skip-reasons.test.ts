import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDataset } from '../../../../src/main/trainer/data/dataset'
import { decodeImage, newScratch, resolvePreprocess, SkipFile } from '../../../../src/main/trainer/data/decode'

/**
 * libvips keeps one error buffer per process: with several decodes in flight, a failing file can
 * be handed another file's message. Every skip reason must be the file's own — the one it gets
 * when it is decoded alone.
 */

let dir: string
const damaged: Record<string, (b: Buffer) => Buffer> = {}

function at(b: Buffer, marker: number): number {
  return b.indexOf(Buffer.from([0xff, marker]))
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gan-skip-reasons-'))
  const w = 640
  const h = 480
  const raw = Buffer.alloc(w * h * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 9)) & 255
  const base = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer()
  Object.assign(damaged, {
    'cut-at-40pc': (b: Buffer) => b.subarray(0, Math.floor(b.length * 0.4)),
    'cut-at-70pc': (b: Buffer) => b.subarray(0, Math.floor(b.length * 0.7)),
    'zero-width': (b: Buffer) => (b.writeUInt16BE(0, at(b, 0xc0) + 7), b),
    '12-bit': (b: Buffer) => ((b[at(b, 0xc0) + 4] = 12), b),
    'bogus-huffman': (b: Buffer) => (b.fill(200, at(b, 0xc4) + 5, at(b, 0xc4) + 21), b),
    'bad-dqt-index': (b: Buffer) => ((b[at(b, 0xdb) + 4] = 0x09), b),
    'two-soi': (b: Buffer) => ((b[at(b, 0xdb) + 1] = 0xd8), b),
    'undefined-table': (b: Buffer) => ((b[at(b, 0xda) + 6] = 0x33), b),
    'no-frame': (b: Buffer) => ((b[at(b, 0xc0) + 1] = 0xfe), b),
    'short-segment': (b: Buffer) => (b.writeUInt16BE(1, at(b, 0xdb) + 2), b),
    'no-components': (b: Buffer) => ((b[at(b, 0xc0) + 9] = 0), b)
  })
  const source = join(dir, 'src')
  await mkdir(source)
  // Three copies of each kind (each a little different, so none is a duplicate), interleaved.
  for (let copy = 0; copy < 3; copy++) {
    for (const [name, damage] of Object.entries(damaged)) {
      const bytes = damage(Buffer.from(base))
      await writeFile(join(source, `${copy}-${name}.jpg`), Buffer.concat([bytes, Buffer.alloc(copy)]))
    }
  }
  await writeFile(join(source, 'good.jpg'), base)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('skip reasons', () => {
  it('a file that became a FIFO after the scan is skipped at once, not waited on', async (ctx) => {
    const fifo = join(dir, 'pipe.jpg')
    try {
      execFileSync('mkfifo', [fifo])
    } catch {
      console.warn('mkfifo is not available here: the FIFO case is skipped')
      ctx.skip()
    }
    const pp = resolvePreprocess({ resolution: 32, crop: 'center', background: '#ffffff' })
    for (const scratch of [newScratch(), undefined]) {
      await expect(decodeImage(fifo, 1000, pp, scratch)).rejects.toMatchObject({ reason: expect.stringMatching(/not a plain file/) })
    }
  })

  it('each damaged file gets its own reason, however many decode at once', async () => {
    const pp = { resolution: 32 as const, crop: 'center' as const, background: '#ffffff' }
    const ds = await importDataset({ source: join(dir, 'src'), preprocess: pp, datasetsDir: join(dir, 'datasets') })
    expect(ds.count).toBe(1)
    expect(ds.skipped).toHaveLength(Object.keys(damaged).length * 3)
    const alone: Record<string, string> = {}
    for (const s of ds.skipped) {
      const file = join(dir, 'src', s.file)
      const { size } = await (await import('node:fs/promises')).stat(file)
      const reason = await decodeImage(file, size, resolvePreprocess(pp), newScratch()).then(
        () => 'decoded',
        (err: unknown) => (err instanceof SkipFile ? err.reason : String(err))
      )
      alone[s.file] = reason
    }
    const mismatched = ds.skipped.filter((s) => s.reason !== alone[s.file]).map((s) => `${s.file}: "${s.reason}", alone "${alone[s.file]}"`)
    expect(mismatched).toEqual([])
    // Copies of one kind of damage share one reason; the reasons are not all the same.
    for (const name of Object.keys(damaged)) {
      expect(new Set(ds.skipped.filter((s) => s.file.endsWith(`-${name}.jpg`)).map((s) => s.reason)).size, name).toBe(1)
    }
    expect(new Set(ds.skipped.map((s) => s.reason)).size).toBeGreaterThan(4)
  })
})
