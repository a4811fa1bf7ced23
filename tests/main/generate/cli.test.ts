import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run as compare } from '../../../src/main/cli/commands/compare'
import { run as exportModel } from '../../../src/main/cli/commands/export-model'
import { run as generate } from '../../../src/main/cli/commands/generate'
import { run as walk } from '../../../src/main/cli/commands/walk'
import { readPngText } from '../../../src/main/generate/png-text'
import { writeFavorites } from '../../../src/main/generate/favorites'
import { makeTinyRun, type TinyRun } from './fixture'

type Command = (argv: string[], io: { out: (l: string) => void; err: (l: string) => void }) => Promise<number>

async function call(cmd: Command, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await cmd(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

let root: string
let run: TinyRun
let other: TinyRun
let empty: TinyRun

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-cli-'))
  const runs = join(root, 'runs')
  run = await makeTinyRun(runs)
  other = await makeTinyRun(runs, { overrides: { steps: 500, ema: { decay: 0.99 } } })
  empty = await makeTinyRun(runs, { steps: [] })
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('bad input: one clear line on stderr, exit code 2', () => {
  const nowhere = '/nonexistent/run-folder'
  const cases: [string, Command, () => string[], RegExp][] = [
    ['generate: unknown run folder', generate, () => [nowhere, '--count', '2'], /No run at \/nonexistent\/run-folder/],
    ['generate: missing checkpoint', generate, () => [empty.dir, '--count', '2'], /has no checkpoint/],
    ['generate: named checkpoint that is not there', generate, () => [run.dir, '--count', '2', '--checkpoint', 'step-000999'], /No checkpoint step-000999/],
    ['generate: ψ above 2', generate, () => [run.dir, '--count', '2', '--truncation', '2.5'], /--truncation must be between 0 and 2/],
    ['generate: ψ not a number', generate, () => [run.dir, '--count', '2', '--truncation', 'abc'], /--truncation must be a number/],
    ['generate: unknown flag', generate, () => [run.dir, '--count', '2', '--colour', 'red'], /Unknown option '--colour'/],
    ['generate: count 0', generate, () => [run.dir, '--count', '0'], /--count must be between 1 and 10000/],
    ['generate: count too large', generate, () => [run.dir, '--count', '20000'], /--count must be between/],
    ['generate: no count', generate, () => [run.dir], /--count is required/],
    ['generate: upscale 3', generate, () => [run.dir, '--count', '1', '--upscale', '3'], /--upscale must be one of 1, 2, 4/],
    ['walk: one keyframe', walk, () => [run.dir, '--seeds', '4'], /2 to 64 keyframe seeds/],
    ['walk: bad format', walk, () => [run.dir, '--seeds', '1,2', '--format', 'mp4'], /--format must be one of gif, webp, png/],
    ['walk: fps 0', walk, () => [run.dir, '--seeds', '1,2', '--fps', '0'], /--fps must be between 1 and 60/],
    ['walk: unknown run', walk, () => [nowhere, '--seeds', '1,2'], /No run at/],
    ['export-model: missing checkpoint', exportModel, () => [empty.dir], /has no checkpoint/],
    ['export-model: no run folder', exportModel, () => [], /needs one run folder/],
    ['compare: one run', compare, () => [run.dir], /2 to 6 run folders/],
    ['compare: unknown run', compare, () => [run.dir, nowhere], /No run at/]
  ]
  for (const [name, cmd, argv, message] of cases) {
    it(name, async () => {
      const r = await call(cmd, argv())
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(message)
      expect(r.err[0]).toMatch(/^gan-studio [a-z-]+: /)
      expect(r.out).toEqual([])
    })
  }
})

describe('commands that work', () => {
  it('generate --seed S --count N writes seeds S…S+N−1 named by seed, with metadata', async () => {
    const out = join(root, 'gen')
    const r = await call(generate, [run.dir, '--count', '3', '--seed', '40', '--truncation', '0.5', '--sheet', '--out', out, '--backend', 'cpu'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out[0]).toMatch(/Wrote 3 images \(seeds 40–42, step 100, ψ 0\.5, 32×32\)/)
    expect((await fsp.readdir(out)).sort()).toEqual(['seed-000040.png', 'seed-000041.png', 'seed-000042.png', 'sheet.png'])
    expect(readPngText(await fsp.readFile(join(out, 'seed-000041.png')))).toMatchObject({ seed: '41', psi: '0.5', step: '100', run: run.id })
  })

  it('generate --favorites exports the starred seeds together', async () => {
    await writeFavorites(run.dir, [8, 3])
    const r = await call(generate, [run.dir, '--favorites', '--upscale', '2', '--backend', 'cpu'])
    expect(r.code).toBe(0)
    const dir = join(run.dir, 'exports', 'favorites', 'step-000100-psi1.00-x2')
    expect((await fsp.readdir(dir)).sort()).toEqual(['seed-000003.png', 'seed-000008.png'])
    expect(await sharp(join(dir, 'seed-000003.png')).metadata()).toMatchObject({ width: 64, height: 64 })
  })

  it('walk picks the format from --out and writes the frames asked for', async () => {
    const out = join(root, 'loop.webp')
    const r = await call(walk, [run.dir, '--seeds', '1,2,3', '--seconds', '0.5', '--fps', '6', '--out', out, '--backend', 'cpu'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out.at(-1)).toMatch(/Wrote a 3-frame looping WEBP/)
    expect((await sharp(out).metadata()).pages).toBe(3)
  })

  it('export-model writes the model and the page', async () => {
    const out = join(root, 'model')
    const r = await call(exportModel, [run.dir, '--out', out])
    expect(r.code).toBe(0)
    expect((await fsp.readdir(out)).sort()).toEqual(['README.txt', 'index.html', 'latent.js', 'model.json', 'weights.bin'])
  })

  it('compare prints the summary table and exactly the settings that differ', async () => {
    const r = await call(compare, [run.dir, other.dir])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out[0]).toMatch(/^RUN\s+STEPS\s+TIME\s+IMG\/S\s+G LOSS\s+D LOSS/)
    const at = r.out.indexOf('Settings that differ (2):')
    expect(at).toBeGreaterThan(0)
    const rows = r.out.slice(at + 2).map((l) => l.split(/\s+/))
    expect(rows.map((cells) => cells[0])).toEqual(['steps', 'ema.decay'])
    expect(rows[0]!.slice(1)).toEqual(['200', '500'])
    expect(rows[1]!.slice(1)).toEqual(['0.999', '0.99'])
  })
})
