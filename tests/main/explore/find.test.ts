import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import { findImage, type FindProgress } from '../../../src/main/generate/explore/find'
import { multiScaleDistance, psnr, verdictFor } from '../../../src/main/generate/explore/find-measures'
import { loadTarget } from '../../../src/main/generate/explore/find-target'
import { renderSources } from '../../../src/main/generate/explore/render'
import { readFavoritesFile } from '../../../src/main/generate/favorites'
import { generateImages } from '../../../src/main/generate/images'
import { readPngText } from '../../../src/main/generate/png-text'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import { ImageProjector, imageLoss } from '../../../src/main/trainer/model/projection'
import { loadGenerator } from '../../../src/main/generate/generator'
import { readRun, updateRun } from '../../../src/main/trainer/run/runs'
import { toDatasetSummary } from '../../../src/shared/datasets'
import { useWasm } from '../../helpers/backend'
import { makeImageFolder } from '../../helpers/images'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun
/** A picture the generator itself made from seed 4242's latent. */
let ownImage: string
let ownPixels: Uint8Array
let flat: string
let noise: string

const pixels = async (png: Buffer | string): Promise<Uint8Array> => new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer())

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false })
  return { code, out, err }
}

beforeAll(async () => {
  await useWasm()
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-find-'))
  run = await makeTinyRun(join(root, 'runs'))
  const made = (await generateImages(run.dir, { seeds: [4242], outDir: null, backend: 'wasm' })).images[0]!.png!
  ownImage = join(root, 'own.png')
  await fsp.writeFile(ownImage, made)
  ownPixels = await pixels(made)
  flat = join(root, 'flat.png')
  await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 30, g: 200, b: 60 } } }).png().toFile(flat)
  const rand = new Uint8Array(32 * 32 * 3)
  let s = 12345
  for (let i = 0; i < rand.length; i++) rand[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24
  noise = join(root, 'noise.png')
  await sharp(rand, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(noise)
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('measures and verdict', () => {
  it('PSNR and the multi-scale distance: identical images, a small shift, unrelated images', () => {
    const a = new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 256)
    const b = a.map((v) => Math.min(255, v + 4))
    const c = new Uint8Array(a.length).fill(255)
    expect(psnr(a, a)).toBe(99)
    expect(multiScaleDistance(a, a, 8)).toBe(0)
    expect(psnr(a, b)).toBeGreaterThan(35)
    expect(psnr(a, c)).toBeLessThan(psnr(a, b))
    expect(multiScaleDistance(a, b, 8)).toBeLessThan(multiScaleDistance(a, c, 8))
    expect(verdictFor({ psnr: 30, distance: 0.02, baseline: 0.2 }).verdict).toBe('close')
    expect(verdictFor({ psnr: 17, distance: 0.1, baseline: 0.2 }).verdict).toBe('rough')
    expect(verdictFor({ psnr: 14, distance: 0.19, baseline: 0.2 })).toMatchObject({ verdict: 'none', summary: expect.stringMatching(/^No good match/) })
    // A high PSNR alone is not enough when a random image is as near (a nearly flat target).
    expect(verdictFor({ psnr: 25, distance: 0.05, baseline: 0.06 }).verdict).not.toBe('close')
  })
})

describe('the image to find is prepared as the run’s dataset was', () => {
  it('a file and its bytes give the same pixels; transparency is flattened onto the run’s background; the crop mode is the dataset’s', async () => {
    const json = await readRun(run.dir)
    const clear = join(root, 'clear.png')
    await sharp({ create: { width: 40, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(clear)
    const padded = { ...json, dataset: { ...json.dataset, crop: 'pad' as const, background: '#ff0000' } }
    const fromFile = await loadTarget(padded, { file: clear })
    const fromBytes = await loadTarget(padded, { bytes: await fsp.readFile(clear), name: 'clear.png' })
    expect(Buffer.from(fromFile.pixels).equals(Buffer.from(fromBytes.pixels))).toBe(true)
    expect(fromFile.pixels.length).toBe(32 * 32 * 3)
    expect([...fromFile.pixels.subarray(0, 3)]).toEqual([255, 0, 0])
    // The wide image is padded, not cropped: the red background fills the top and bottom rows, and
    // the transparent image itself is flattened onto the same red.
    expect(fromFile.pixels.every((v, i) => v === (i % 3 === 0 ? 255 : 0))).toBe(true)
    expect(fromBytes.label).toBe('clear.png')

    const stripes = join(root, 'stripes.png')
    const wide = new Uint8Array(64 * 32 * 3).map((_, i) => (Math.floor(i / 3) % 64 < 16 ? 0 : 255))
    await sharp(wide, { raw: { width: 64, height: 32, channels: 3 } }).png().toFile(stripes)
    const centre = await loadTarget({ ...json, dataset: { ...json.dataset, crop: 'center' } }, { file: stripes })
    const pad = await loadTarget({ ...json, dataset: { ...json.dataset, crop: 'pad', background: '#000000' } }, { file: stripes })
    // Centre crop keeps the middle 32 columns (16…47 of 64): no black stripe at the left edge.
    expect(centre.pixels[3 * 0]).toBe(255)
    // Padding keeps the whole width: the black stripe shows at the left, the black bars above.
    expect(pad.pixels[(16 * 32 + 0) * 3]).toBe(0)
    expect(pad.pixels[(16 * 32 + 20) * 3]).toBe(255)
  })

  it('refuses a missing, undecodable or empty picture clearly', async () => {
    const json = await readRun(run.dir)
    await expect(loadTarget(json, { file: join(root, 'nope.png') })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/There is no image file/) })
    const garbage = join(root, 'garbage.png')
    await fsp.writeFile(garbage, 'this is not an image at all, just text')
    await expect(loadTarget(json, { file: garbage })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/cannot be used: not a readable image/) })
    await expect(loadTarget(json, { bytes: new Uint8Array(0), name: 'x.png' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/x.png cannot be used: empty/) })
    await expect(loadTarget(json, { file: root })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/not a file/) })
  })
})

describe('the objective and its gradient', () => {
  it('the gradient reaching z through the engine’s tape matches finite differences', async () => {
    const gen = await loadGenerator(run.dir, { backend: 'wasm' })
    const p = new ImageProjector(gen.family, gen.spec, gen.weights, ownPixels)
    try {
      const dim = gen.spec.latentDim
      const z = new Float32Array(dim).map((_, i) => Math.sin(i * 1.7))
      const r = await p.evaluate(z, 1, { grad: true, images: null })
      const h = 1e-2
      for (const k of [0, 5, 11]) {
        const up = z.slice()
        up[k] = up[k]! + h
        const down = z.slice()
        down[k] = down[k]! - h
        const numeric = ((await p.evaluate(up, 1, { grad: false, images: null })).losses[0]! - (await p.evaluate(down, 1, { grad: false, images: null })).losses[0]!) / (2 * h)
        expect(Math.abs(r.grad![k]! - numeric)).toBeLessThan(0.05 * Math.abs(numeric) + 2e-3)
      }
    } finally {
      p.dispose()
      gen.dispose()
    }
    // The loss is zero for the target itself and grows with a difference.
    const t = tf.tensor4d(Float32Array.from(ownPixels, (v) => v / 127.5 - 1), [1, 32, 32, 3])
    const l = imageLoss(tf.concat([t, tf.add(t, 0.1)]) as tf.Tensor4D, t)
    const values = await l.data()
    expect(values[0]).toBeCloseTo(0, 6)
    expect(values[1]).toBeGreaterThan(0.01)
    tf.dispose([t, l])
  })
})

describe('findImage', () => {
  it('finds a close match for an image the generator made, far closer than random latents; its latent renders the match', async () => {
    const before = tf.memory().numTensors
    const events: FindProgress[] = []
    const r = await findImage(run.dir, { target: { file: ownImage }, steps: 60, starts: 4, backend: 'wasm', onProgress: (p) => events.push(p) })
    expect(tf.memory().numTensors).toBe(before)
    // What random latents of this generator score against the same target.
    const random = await generateImages(run.dir, { seeds: [1, 2, 3, 4, 5, 6, 7, 8], outDir: null, backend: 'wasm' })
    const randomPsnr = Math.max(...(await Promise.all(random.images.map(async (img) => psnr(await pixels(img.png!), ownPixels)))))
    expect(r.psnr).toBeGreaterThan(randomPsnr + 10)
    expect(r.psnr).toBeGreaterThan(30)
    expect(r.distance).toBeLessThan(r.baseline / 4)
    expect(r.verdict).toBe('close')
    expect(r.summary).toMatch(/^A close match/)
    expect(r.latent).toHaveLength(16)
    expect(r.steps).toBe(60)
    // The match is what the generator makes from the returned latent (a collection can keep it).
    const again = await renderSources(run.dir, [{ latent: Array.from(r.latent) }], { backend: 'wasm' })
    expect(Buffer.from(await pixels(again.pngs[0]!)).equals(Buffer.from(await pixels(r.png)))).toBe(true)
    expect(Buffer.from(await pixels(r.targetPng)).equals(Buffer.from(ownPixels))).toBe(true)
    // Progress: screening first, steps in order, previews of the best match on some steps, the loss falling.
    expect(events[0]).toMatchObject({ phase: 'screen', done: 0, total: 60 })
    expect(Buffer.from(await pixels(events[0]!.target!)).equals(Buffer.from(ownPixels))).toBe(true)
    const done = events.map((e) => e.done)
    expect(done).toEqual([...done].sort((a, b) => a - b))
    expect(events.filter((e) => e.phase === 'explore').length).toBe(15)
    expect(events.filter((e) => e.phase === 'refine').length).toBe(45)
    expect(events.filter((e) => e.preview).length).toBeGreaterThanOrEqual(6)
    expect(events.at(-1)).toMatchObject({ phase: 'done', done: 60 })
    const losses = events.filter((e) => e.loss !== null).map((e) => e.loss!)
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5)
  })

  it('degrades gracefully on unrelated images: a result with worse measures and an honest verdict, never an error', async () => {
    const own = await findImage(run.dir, { target: { file: ownImage }, steps: 30, backend: 'wasm' })
    for (const file of [flat, noise]) {
      const before = tf.memory().numTensors
      const r = await findImage(run.dir, { target: { file }, steps: 30, backend: 'wasm' })
      expect(tf.memory().numTensors).toBe(before)
      expect(r.verdict).not.toBe('close')
      expect(r.psnr).toBeLessThan(own.psnr - 10)
      expect(r.distance / r.baseline).toBeGreaterThan(own.distance / own.baseline)
      expect(r.png.length).toBeGreaterThan(0)
      expect(r.summary).toMatch(/match/)
    }
  })

  it('the same request finds the same latent; another seed tries other starting points', async () => {
    const a = await findImage(run.dir, { target: { file: flat }, steps: 12, starts: 2, backend: 'wasm' })
    const b = await findImage(run.dir, { target: { file: flat }, steps: 12, starts: 2, backend: 'wasm' })
    const c = await findImage(run.dir, { target: { file: flat }, steps: 12, starts: 2, seed: 9, backend: 'wasm' })
    expect(Array.from(a.latent)).toEqual(Array.from(b.latent))
    expect(Array.from(a.latent)).not.toEqual(Array.from(c.latent))
  })

  it('stops promptly when cancelled, without leaking tensors', async () => {
    const before = tf.memory().numTensors
    const controller = new AbortController()
    let abortedAt = 0
    let after = 0
    const pending = findImage(run.dir, {
      target: { file: ownImage },
      steps: 2000,
      backend: 'wasm',
      signal: controller.signal,
      onProgress: (p) => {
        if (abortedAt) after++
        else if (p.done >= 3) {
          abortedAt = Date.now()
          controller.abort()
        }
      }
    })
    await expect(pending).rejects.toMatchObject({ code: 'cancelled', message: 'Finding the image was cancelled.' })
    expect(Date.now() - abortedAt).toBeLessThan(2000)
    expect(after).toBeLessThanOrEqual(1)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('bad input is a bad-input error, and leaks nothing', async () => {
    const before = tf.memory().numTensors
    await expect(findImage(run.dir, { target: { file: join(root, 'missing.png') }, backend: 'wasm' })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(findImage(run.dir, { target: { file: ownImage }, steps: 0, backend: 'wasm' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/Steps must be/) })
    await expect(findImage(run.dir, { target: { file: ownImage }, starts: 100, backend: 'wasm' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/Starts must be/) })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('finds one of the run’s own dataset images by index', async () => {
    const folder = join(root, 'pictures')
    await makeImageFolder(folder, { count: 3 })
    const datasetsDir = join(root, 'datasets')
    const dataset = await importDataset({ source: folder, preprocess: { resolution: 32, crop: 'center', background: '#ffffff' }, datasetsDir })
    const runs = await makeTinyRun(join(root, 'runs-ds'))
    await updateRun(runs.dir, { dataset: toDatasetSummary(dataset) })
    const r = await findImage(runs.dir, { target: { datasetImage: 2, datasetsDir }, steps: 10, backend: 'wasm' })
    expect(r.targetLabel).toBe(`dataset image 2 (${dataset.files[2]})`)
    const cached = new Uint8Array(await fsp.readFile(join(datasetsDir, dataset.id, dataset.cacheFile))).subarray(2 * 32 * 32 * 3, 3 * 32 * 32 * 3)
    expect(Buffer.from(await pixels(r.targetPng)).equals(Buffer.from(cached))).toBe(true)
    await expect(findImage(runs.dir, { target: { datasetImage: 3, datasetsDir }, backend: 'wasm' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/has 3 images/) })
  })
})

describe('gan-studio explore find', () => {
  it('prints progress and the verdict, writes the match with its latent, keeps the latent in a collection', async () => {
    const out = join(root, 'match.png')
    const r = await cli(['explore', 'find', run.dir, ownImage, '--steps', '40', '--starts', '3', '--out', out, '--collection', 'Found', '--backend', 'wasm'])
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
    expect(r.out[0]).toMatch(/^Finding: step 0\/40, screening random latents/)
    expect(r.out.join('\n')).toMatch(/A close match: \d+\.\d dB PSNR/)
    expect(r.out.join('\n')).toMatch(/Looked for own.png with 3 starts and 40 steps/)
    const text = readPngText(await fsp.readFile(out))
    const latent = text.latent!.split(',').map(Number)
    expect(latent).toHaveLength(16)
    const file = await readFavoritesFile(run.dir)
    const found = file.collections.find((c) => c.name === 'Found')!
    expect(found.items).toHaveLength(1)
    expect(found.items[0]).toMatchObject({ seed: null, label: 'found: own.png' })
    expect(found.items[0]!.latent).toEqual(latent)
    // The written match can be varied like any GAN Studio image.
    const vary = await cli(['explore', 'variations', run.dir, '--from-png', out, '--count', '2', '--out', join(root, 'vary'), '--backend', 'wasm'])
    expect(vary.code).toBe(0)
    expect(Buffer.from(await pixels(join(root, 'vary', 'center.png'))).equals(Buffer.from(await pixels(out)))).toBe(true)
  })

  it('--json prints one object with the latent and the measures', async () => {
    const r = await cli(['explore', 'find', run.dir, flat, '--steps', '15', '--json', '--backend', 'wasm'])
    expect(r.code).toBe(0)
    expect(r.out).toHaveLength(1)
    const j = JSON.parse(r.out[0]!) as Record<string, unknown>
    expect(j).toMatchObject({ verdict: expect.stringMatching(/^(rough|none)$/), steps: 15, starts: 6, step: 100, out: null, collection: null, targetLabel: 'flat.png' })
    expect(j.latent).toHaveLength(16)
    expect(typeof j.psnr).toBe('number')
  })

  const bad: [string, string[], RegExp][] = [
    ['no image', [], /either an image file or --dataset-image N/],
    ['a missing image', ['/nonexistent/picture.png'], /There is no image file \/nonexistent\/picture.png/],
    ['an undecodable image', ['GARBAGE'], /cannot be used: not a readable image/],
    ['steps not a number', ['OWN', '--steps', 'many'], /--steps must be a whole number/],
    ['steps zero', ['OWN', '--steps', '0'], /--steps must be between 1 and 5000/],
    ['too many starts', ['OWN', '--starts', '99'], /--starts must be between 1 and 32/],
    ['both an image and a dataset image', ['OWN', '--dataset-image', '1'], /either an image file or --dataset-image N/],
    ['an empty collection name', ['OWN', '--collection', ' '], /--collection needs a name/]
  ]
  for (const [name, args, message] of bad)
    it(`bad input: ${name} → one line, exit 2`, async () => {
      const garbage = join(root, 'garbage.txt')
      await fsp.writeFile(garbage, 'not an image')
      const argv = args.map((a) => (a === 'OWN' ? ownImage : a === 'GARBAGE' ? garbage : a))
      const r = await cli(['explore', 'find', run.dir, ...argv, '--backend', 'wasm'])
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(/^gan-studio explore find: /)
      expect(r.err[0]).toMatch(message)
    })
})
