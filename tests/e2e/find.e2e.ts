/**
 * "Find my image" in Chromium against the real `gan-studio serve` and its trainer child: a tiny
 * run trained by the CLI; an image that run's generator made is chosen as a file and found again
 * (a close match, measured against the image); the found latent goes on to Variations; a training
 * image is picked from the run's dataset; a flat colour dropped on the dialog degrades gracefully
 * (a result and an honest verdict, no error); a long search shows its live best match and is
 * cancelled. Accessible names only.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, promises as fsp, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, ROOT, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const run = promisify(execFile)
const NAME = 'Moth finder'

describe('Find my image in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  let work: string
  let generated: string
  let flat: Buffer

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-find-'))
    const folder = join(work, 'moths')
    await makeImageFolder(folder, { count: 8 })
    const config = join(work, 'tiny.json')
    await fsp.writeFile(config, JSON.stringify({ model: { latentDim: 16, gChannels: 8, dChannels: 8 }, gridSize: 16 }))
    const home = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
    const env = { ...process.env, GAN_STUDIO_HOME: home }
    const bin = join(ROOT, 'bin', 'gan-studio.js')
    await run(process.execPath, [bin, 'train', folder, '--name', NAME, '--steps', '6', '--batch', '4', '--backend', 'wasm', '--sample-every', '3', '--checkpoint-every', '3', '--config', config], { cwd: ROOT, env, timeout: 120_000 })
    const runDir = join(home, 'runs', readdirSync(join(home, 'runs'))[0]!)
    // An image the run's own generator made: it can be found again.
    await run(process.execPath, [bin, 'generate', runDir, '--count', '1', '--seed', '11', '--out', join(work, 'made'), '--backend', 'wasm'], { cwd: ROOT, env, timeout: 120_000 })
    generated = join(work, 'made', readdirSync(join(work, 'made')).find((f) => f.endsWith('.png'))!)
    flat = await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: 20, g: 170, b: 240 } } }).png().toBuffer()
    serve = await startServe({}, { home })
    browser = await launchChromium()
    ;({ page, problems } = await newPage(browser))
    await page.goto(serve.url)
    await page.getByRole('link', { name: 'Generate' }).click()
    await page.getByRole('heading', { name: 'Generate', level: 1 }).waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
    await fsp.rm(work, { recursive: true, force: true })
  })

  const dialog = (): ReturnType<Page['getByRole']> => page.getByRole('dialog', { name: 'Find my image' })

  it('finds an image the generator made: a close match beside it, measured against it; the latent goes on to Variations', async () => {
    await page.getByRole('button', { name: 'Find my image…' }).click()
    await dialog().waitFor()
    await page.getByLabel('Choose an image file').setInputFiles(generated)
    await dialog().getByRole('img', { name: /^The image to find:/ }).waitFor()
    await dialog().getByRole('button', { name: 'Find', exact: true }).click()
    await dialog().getByText('Close match', { exact: true }).waitFor({ timeout: 120_000 })
    const psnr = Number(/PSNR\s*([\d.]+) dB/.exec(await dialog().locator('.measures').innerText())![1])
    expect(psnr).toBeGreaterThan(30)
    await dialog().getByRole('img', { name: 'The best match found' }).waitFor()
    await expect.poll(() => dialog().getByRole('img', { name: 'The best match found' }).evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(32)
    await screenshot(page, 'find-01-close-match')
    await dialog().getByRole('button', { name: 'Variations' }).click()
    await page.getByRole('img', { name: /^Centre: found: / }).waitFor({ timeout: 60_000 })
    await page.getByRole('dialog', { name: 'Variations' }).getByRole('button', { name: 'Close' }).last().click()
  })

  it('picks a training image from the run’s dataset', async () => {
    await page.getByRole('button', { name: 'Find my image…' }).click()
    await dialog().getByText('From the training images').click()
    await dialog().getByRole('button', { name: 'Training image 3' }).click()
    await dialog().getByLabel('Effort').selectOption('100')
    await dialog().getByRole('button', { name: 'Find', exact: true }).click()
    await dialog().getByText(/^(Close|Rough|No good) match$/).waitFor({ timeout: 120_000 })
    await expect.poll(() => dialog().getByRole('status').filter({ hasText: /dB PSNR/ }).innerText()).toMatch(/100 steps/)
    await screenshot(page, 'find-02-training-image')
  })

  it('a dropped flat colour degrades gracefully: the nearest image, an honest verdict, no error', async () => {
    await dialog().getByText('A picture of yours').click()
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
      // Runs in the page (the node typings have no DataTransfer).
      const Dt = (globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } }).DataTransfer
      const dt = new Dt()
      dt.items.add(new File([bytes], 'sky blue.png', { type: 'image/png' }))
      return dt
    }, flat.toString('base64'))
    await dialog().locator('.drop').dispatchEvent('drop', { dataTransfer })
    await dialog().getByRole('img', { name: 'The image to find: sky blue.png' }).waitFor()
    await dialog().getByRole('button', { name: 'Find', exact: true }).click()
    await dialog().getByText(/^(Rough|No good) match$/).waitFor({ timeout: 120_000 })
    await expect(dialog().getByRole('alert').count()).resolves.toBe(0)
    await screenshot(page, 'find-03-unrelated-image')
  })

  it('a long search shows the best match so far and stops on Cancel', async () => {
    await dialog().getByLabel('Effort').selectOption('800')
    await dialog().getByRole('button', { name: 'Search again' }).click()
    const bar = dialog().getByRole('progressbar', { name: 'Search progress' })
    await expect.poll(async () => Number((await bar.getAttribute('aria-valuenow')) ?? 0), { timeout: 60_000 }).toBeGreaterThan(60)
    await dialog().getByRole('img', { name: 'The best match so far' }).waitFor()
    await screenshot(page, 'find-04-searching')
    await dialog().getByRole('button', { name: 'Cancel', exact: true }).click()
    await dialog().getByText('The search was cancelled.').waitFor({ timeout: 30_000 })
    expect(problems).toEqual([])
  })
})
