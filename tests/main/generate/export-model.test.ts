import { existsSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../../src/main/generate/export-model'
import { loadGenerator } from '../../../src/main/generate/generator'
import { generateImages } from '../../../src/main/generate/images'
import { latentsFor } from '../../../src/main/generate/latent'
import { makeTinyRun, type TinyRun } from './fixture'

const CHROMIUM = '/usr/bin/chromium'

let root: string
let run: TinyRun
let exportDir: string

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-export-'))
  run = await makeTinyRun(join(root, 'runs'), { steps: [50, 120] })
  exportDir = (await exportModel(run.dir, { backend: 'cpu' })).dir
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

/** The app's float output for one seed (EMA generator, ψ = 1). */
async function appImage(seed: number): Promise<Float32Array> {
  const gen = await loadGenerator(run.dir, { backend: 'cpu' })
  try {
    return await gen.render(latentsFor([seed], gen.spec.latentDim, 1), 1)
  } finally {
    gen.dispose()
  }
}

describe('exportModel', () => {
  it('writes model.json, weights.bin, latent.js, README.txt and index.html for the newest checkpoint', async () => {
    expect(exportDir).toBe(join(run.dir, 'exports', 'model-step-000120'))
    expect((await fsp.readdir(exportDir)).sort()).toEqual(['README.txt', 'index.html', 'latent.js', 'model.json', 'weights.bin'])
    const json = JSON.parse(await fsp.readFile(join(exportDir, 'model.json'), 'utf8'))
    expect(json.format).toBe('layers-model')
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin'])
    expect(json.userDefinedMetadata.ganStudio).toMatchObject({ runId: run.id, step: 120, latentDim: 16, resolution: 32, generator: 'ema' })
    const layers = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)
    expect(layers).toEqual([
      'Dense', 'Reshape', 'LayerNormalization', 'Activation',
      'Conv2DTranspose', 'LayerNormalization', 'Activation',
      'Conv2DTranspose', 'LayerNormalization', 'Activation',
      'Conv2DTranspose'
    ])
  })

  it('loads in plain @tensorflow/tfjs and reproduces the app’s image for a seed within 1e-4', async () => {
    const json = JSON.parse(await fsp.readFile(join(exportDir, 'model.json'), 'utf8'))
    const bin = await fsp.readFile(join(exportDir, 'weights.bin'))
    const handler: tf.io.IOHandler = {
      load: async () => ({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)
      })
    }
    const model = await tf.loadLayersModel(handler)
    // The latent from the exported latent.js, not from the app's module.
    const { latentForSeed } = (await import(pathToFileURL(join(exportDir, 'latent.js')).href)) as { latentForSeed: (s: number, d: number) => Float32Array }
    for (const seed of [0, 42, 123456]) {
      const out = model.predict(tf.tensor2d(latentForSeed(seed, 16), [1, 16])) as tf.Tensor
      expect(out.shape).toEqual([1, 32, 32, 3])
      const got = (await out.data()) as Float32Array
      out.dispose()
      const want = await appImage(seed)
      let max = 0
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!))
      expect(max).toBeLessThan(1e-4)
    }
    model.dispose()
  })

  it.each(['nearest', 'nearest-rgb'] as const)('exports an upsample + conv DCGAN generator (%s) that reproduces the app’s images', async (gUpsample) => {
    const near = await makeTinyRun(join(root, `runs-${gUpsample}`), { overrides: { model: { latentDim: 16, gChannels: 8, dChannels: 8, gUpsample } } })
    const dir = (await exportModel(near.dir, { backend: 'cpu' })).dir
    const json = JSON.parse(await fsp.readFile(join(dir, 'model.json'), 'utf8'))
    const bin = await fsp.readFile(join(dir, 'weights.bin'))
    const model = await tf.loadLayersModel({
      load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) })
    })
    const gen = await loadGenerator(near.dir, { backend: 'cpu' })
    try {
      const z = latentsFor([3, 77], gen.spec.latentDim, 1)
      const want = await gen.render(z, 2)
      const out = model.predict(tf.tensor2d(z, [2, 16])) as tf.Tensor
      const got = (await out.data()) as Float32Array
      out.dispose()
      let max = 0
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!))
      expect(max).toBeLessThan(1e-4)
    } finally {
      gen.dispose()
      model.dispose()
    }
  })

  it('refuses a run without checkpoints with a clear message', async () => {
    const empty = await makeTinyRun(join(root, 'runs'), { steps: [] })
    await expect(exportModel(empty.dir, { backend: 'cpu' })).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/no checkpoint/) })
  })
})

describe('the exported page in headless Chromium', () => {
  const available = existsSync(CHROMIUM)
  if (!available) console.log(`Skipping the exported-page browser test: ${CHROMIUM} is not installed (apt-get install -y chromium).`)

  it.skipIf(!available)('generates the app’s image for a typed seed, offline from file://', async () => {
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
    try {
      const page = await browser.newPage()
      const requests: string[] = []
      page.on('request', (r) => requests.push(r.url()))
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(pathToFileURL(join(exportDir, 'index.html')).href)
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 })
      await page.getByLabel('Seed').fill('42')
      await page.getByRole('button', { name: 'Generate' }).click()
      await page.waitForSelector('img[data-seed="42"]', { timeout: 60_000 })
      await expect(page.getByRole('img', { name: 'Generated image' }).count()).resolves.toBe(1)
      // Read the shown image's pixels back (the page's own <img>, drawn onto a canvas).
      const pixels = (await page.evaluate(`(() => {
        const el = document.querySelector('img[alt="Generated image"]')
        const c = document.createElement('canvas')
        c.width = el.naturalWidth
        c.height = el.naturalHeight
        const ctx = c.getContext('2d')
        ctx.drawImage(el, 0, 0)
        return { width: c.width, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data) }
      })()`)) as { width: number; data: number[] }
      expect(pixels.width).toBe(32)
      const app = await generateImages(run.dir, { seeds: [42], outDir: null, backend: 'cpu' })
      const want = await sharp(app.images[0]!.png!).ensureAlpha().raw().toBuffer()
      let max = 0
      let sum = 0
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(want[i]! - pixels.data[i]!)
        max = Math.max(max, d)
        sum += d
      }
      expect(max).toBeLessThanOrEqual(2)
      expect(sum / want.length).toBeLessThan(0.1)
      expect(errors).toEqual([])
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([])
      if (process.env.GAN_TEST_SCREENSHOTS) await page.screenshot({ path: join(process.env.GAN_TEST_SCREENSHOTS, 'exported-page.png') })
    } finally {
      await browser.close()
    }
  })
})
