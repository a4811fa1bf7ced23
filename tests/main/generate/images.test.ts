import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateImages, seedFileName } from '../../../src/main/generate/images'
import { readPngText } from '../../../src/main/generate/png-text'
import { readFavorites, setFavorite, writeFavorites } from '../../../src/main/generate/favorites'
import { makeTinyRun, type TinyRun } from './fixture'

let root: string
let run: TinyRun

async function rawPixels(png: Buffer | string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-generate-'))
  run = await makeTinyRun(join(root, 'runs'), { steps: [100, 200] })
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('generateImages', () => {
  it('writes one PNG per seed, named by its seed, with run, step, seed and ψ in tEXt metadata', async () => {
    const out = join(root, 'out-basic')
    const result = await generateImages(run.dir, { seeds: [42, 7], truncation: 0.7, outDir: out, backend: 'cpu' })
    expect(result.step).toBe(200)
    expect(result.checkpoint).toBe('step-000200')
    const names = (await fsp.readdir(out)).sort()
    expect(names).toEqual(['seed-000007.png', 'seed-000042.png'])
    const png = await fsp.readFile(join(out, 'seed-000042.png'))
    const text = readPngText(png)
    expect(text).toMatchObject({ run: run.id, step: '200', seed: '42', truncation: '0.7', psi: '0.7', checkpoint: 'step-000200', generator: 'ema' })
    // tEXt proper (Latin-1), readable by any PNG tool
    expect(png.includes(Buffer.from('tEXtseed\0' + '42', 'latin1'))).toBe(true)
    const meta = await sharp(png).metadata()
    expect([meta.width, meta.height, meta.format]).toEqual([32, 32, 'png'])
  })

  it('gives the same pixels for a seed twice and in different batch compositions', async () => {
    const a = await generateImages(run.dir, { seeds: [5], outDir: null, backend: 'cpu' })
    const b = await generateImages(run.dir, { seeds: [5], outDir: null, backend: 'cpu' })
    const c = await generateImages(run.dir, { seeds: [900, 3, 5, 11, 12], outDir: null, backend: 'cpu' })
    const pa = await rawPixels(a.images[0]!.png!)
    expect((await rawPixels(b.images[0]!.png!)).data.equals(pa.data)).toBe(true)
    const five = c.images.find((i) => i.seed === 5)!
    expect((await rawPixels(five.png!)).data.equals(pa.data)).toBe(true)
    // and different seeds differ
    const other = c.images.find((i) => i.seed === 3)!
    expect((await rawPixels(other.png!)).data.equals(pa.data)).toBe(false)
  })

  it('ψ = 0 gives the same image for every seed', async () => {
    const r = await generateImages(run.dir, { seeds: [1, 2, 3, 1000], truncation: 0, outDir: null, backend: 'cpu' })
    const first = await rawPixels(r.images[0]!.png!)
    for (const img of r.images.slice(1)) expect((await rawPixels(img.png!)).data.equals(first.data)).toBe(true)
  })

  it('upscale 2 doubles and 4 quadruples the dimensions', async () => {
    const out = join(root, 'out-up')
    const r2 = await generateImages(run.dir, { seeds: [9], upscale: 2, outDir: out, backend: 'cpu' })
    expect(await sharp(r2.images[0]!.file!).metadata()).toMatchObject({ width: 64, height: 64 })
    const r4 = await generateImages(run.dir, { seeds: [9], upscale: 4, outDir: null, backend: 'cpu' })
    expect(await sharp(r4.images[0]!.png!).metadata()).toMatchObject({ width: 128, height: 128 })
    expect(readPngText(r4.images[0]!.png!).upscale).toBe('4')
  })

  it('uses the EMA generator by default, an older checkpoint on request, and writes a contact sheet', async () => {
    const ema = await generateImages(run.dir, { seeds: [4], outDir: null, backend: 'cpu' })
    const raw = await generateImages(run.dir, { seeds: [4], outDir: null, backend: 'cpu', useEma: false })
    expect((await rawPixels(ema.images[0]!.png!)).data.equals((await rawPixels(raw.images[0]!.png!)).data)).toBe(false)
    const old = await generateImages(run.dir, { seeds: [4, 5, 6], checkpoint: 'step-000100', sheet: true, backend: 'cpu' })
    expect(old.step).toBe(100)
    expect(old.outDir).toBe(join(run.dir, 'exports', 'images', 'step-000100-psi1.00'))
    expect(basename(old.sheet!.file!)).toBe('sheet.png')
    expect(readPngText(await fsp.readFile(old.sheet!.file!))).toMatchObject({ seeds: '4,5,6', step: '100' })
    expect(old.images.map((i) => basename(i.file!))).toEqual([4, 5, 6].map(seedFileName))
  })

  it('refuses bad input with a clear StudioError', async () => {
    await expect(generateImages(run.dir, { seeds: [1], truncation: 2.5, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/Truncation/) })
    await expect(generateImages(run.dir, { seeds: [-1], backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(generateImages(run.dir, { seeds: [1], checkpoint: 'step-000999', backend: 'cpu' })).rejects.toMatchObject({ code: 'not-found' })
    await expect(generateImages(join(root, 'nope'), { seeds: [1], backend: 'cpu' })).rejects.toMatchObject({ code: 'not-found' })
  })

  it('does not leak tensors', async () => {
    await generateImages(run.dir, { seeds: [1, 2], outDir: null, backend: 'cpu' })
    const before = tf.memory().numTensors
    await generateImages(run.dir, { seeds: [1, 2, 3], outDir: null, backend: 'cpu' })
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('favourites', () => {
  it('are stored in the run folder, unique and sorted, and survive a re-read', async () => {
    expect(await readFavorites(run.dir)).toEqual([])
    await writeFavorites(run.dir, [42, 7, 42])
    expect(await setFavorite(run.dir, 3, true)).toEqual([3, 7, 42])
    expect(await setFavorite(run.dir, 7, false)).toEqual([3, 42])
    expect(JSON.parse(await fsp.readFile(join(run.dir, 'favorites.json'), 'utf8')).seeds).toEqual([3, 42])
    await expect(writeFavorites(run.dir, [1.5])).rejects.toMatchObject({ code: 'bad-input' })
  })
})
