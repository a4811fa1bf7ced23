import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import { makeVariations, variationLatents } from '../../../src/main/generate/explore/variations'
import { generateImages } from '../../../src/main/generate/images'
import { readPngText } from '../../../src/main/generate/png-text'
import { latentForSeed } from '../../../src/main/trainer/model/rng'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun

const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return Math.sqrt(s)
}
const norm = (a: ArrayLike<number>): number => dist(a, new Float32Array(a.length))
async function pixels(png: Buffer | string): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer()
}
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!)
  return s / a.length
}

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false })
  return { code, out, err }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-variations-'))
  run = await makeTinyRun(join(root, 'runs'))
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('variation latents', () => {
  it('strength 0 is the centre, strength grows the distance, lengths stay typical, the same seed gives the same grid', () => {
    const dim = 128
    const c = latentForSeed(5, dim)
    const at = (s: number, v = 0) => variationLatents(c, 4, s, v)
    expect(dist(at(0).subarray(0, dim), c)).toBeLessThan(1e-5)
    const d = [0.1, 0.3, 0.6, 1].map((s) => dist(at(s).subarray(0, dim), c))
    for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThan(d[i - 1]!)
    for (const s of [0.3, 0.7, 1]) {
      const z = at(s)
      for (let i = 0; i < 4; i++) expect(norm(z.subarray(i * dim, (i + 1) * dim)) / Math.sqrt(dim)).toBeGreaterThan(0.8)
      for (let i = 0; i < 4; i++) expect(norm(z.subarray(i * dim, (i + 1) * dim)) / Math.sqrt(dim)).toBeLessThan(1.2)
    }
    expect(Array.from(at(0.4, 3))).toEqual(Array.from(at(0.4, 3)))
    expect(Array.from(at(0.4, 3))).not.toEqual(Array.from(at(0.4, 4)))
    // neighbours differ from each other
    const z = at(0.5)
    expect(dist(z.subarray(0, dim), z.subarray(dim, 2 * dim))).toBeGreaterThan(1)
    expect(() => variationLatents(c, 2, 1.5, 0)).toThrow(/Strength must be between 0 and 1/)
  })
})

describe('makeVariations', () => {
  it('the centre is the seed’s own image; neighbours look closer at low strength than at high', async () => {
    const seedImage = (await generateImages(run.dir, { seeds: [12], outDir: null, backend: 'cpu' })).images[0]!.png!
    const low = await makeVariations(run.dir, { center: { seed: 12 }, strength: 0.15, count: 6, backend: 'cpu' })
    const high = await makeVariations(run.dir, { center: { seed: 12 }, strength: 0.9, count: 6, backend: 'cpu' })
    expect((await pixels(low.center.png)).equals(await pixels(seedImage))).toBe(true)
    const centre = await pixels(seedImage)
    const mean = async (r: typeof low): Promise<number> => {
      let s = 0
      for (const v of r.neighbours) s += meanAbsDiff(await pixels(v.png), centre)
      return s / r.neighbours.length
    }
    const near = await mean(low)
    const far = await mean(high)
    expect(near).toBeGreaterThan(0)
    expect(near).toBeLessThan(far / 2)
    // recentre on a neighbour: its latent renders to the same image
    const next = await makeVariations(run.dir, { center: { latent: Array.from(low.neighbours[2]!.latent) }, strength: 0.2, count: 2, backend: 'cpu' })
    expect((await pixels(next.center.png)).equals(await pixels(low.neighbours[2]!.png))).toBe(true)
    await expect(makeVariations(run.dir, { center: { latent: [1, 2] }, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(makeVariations(run.dir, { center: { seed: 1 }, count: 0, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' })
  })
})

describe('gan-studio explore variations', () => {
  it('writes the centre, its neighbours (each with its latent) and a sheet; a neighbour can be the next centre', async () => {
    const out = join(root, 'var')
    const r = await cli(['explore', 'variations', run.dir, '--seed', '7', '--strength', '0.4', '--count', '5', '--out', out, '--backend', 'cpu'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out[0]).toMatch(/Wrote the centre and 5 variations of seed 7 \(strength 0.4, step 100\)/)
    expect((await fsp.readdir(out)).sort()).toEqual(['center.png', 'sheet.png', 'variation-01.png', 'variation-02.png', 'variation-03.png', 'variation-04.png', 'variation-05.png'])
    const text = readPngText(await fsp.readFile(join(out, 'variation-03.png')))
    expect(text.latent!.split(',')).toHaveLength(16)
    const out2 = join(root, 'var2')
    const again = await cli(['explore', 'variations', run.dir, '--from-png', join(out, 'variation-03.png'), '--count', '2', '--out', out2, '--backend', 'cpu'])
    expect(again.code).toBe(0)
    expect(again.out[0]).toMatch(/of a stored latent/)
    expect((await pixels(join(out2, 'center.png'))).equals(await pixels(join(out, 'variation-03.png')))).toBe(true)
  })

  const bad: [string, string[], RegExp][] = [
    ['neither seed nor image', ['--out', '/tmp/x'], /either --seed S or --from-png/],
    ['strength above 1', ['--seed', '1', '--strength', '2', '--out', '/tmp/x'], /--strength must be between 0 and 1/],
    ['no out', ['--seed', '1'], /--out is required/],
    ['count too large', ['--seed', '1', '--count', '100', '--out', '/tmp/x'], /--count must be between 1 and 64/],
    ['image without a latent', ['--from-png', '/nonexistent.png', '--out', '/tmp/x'], /--from-png: cannot read/]
  ]
  for (const [name, args, message] of bad)
    it(`bad input: ${name}`, async () => {
      const r = await cli(['explore', 'variations', run.dir, ...args])
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(message)
    })
})
