/**
 * The studio in Chromium against the real `gan-studio serve` and the real trainer: import a generated
 * folder, train a tiny run, watch the chart and gallery fill, pause, resume, stop, reload and find
 * the run in the library. Accessible names only, as a person (or a screen reader) finds things.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

// Runs against the built app; scripts/e2e.mjs (and npm test) build it first.
if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const IMAGE_COUNT = 24

describe('the studio in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  let folder: string
  let runUrl = ''

  beforeAll(async () => {
    folder = join(mkdtempSync(join(tmpdir(), 'gan-studio-e2e-images-')), 'my drawings')
    await makeImageFolder(folder, { count: IMAGE_COUNT, formats: ['png', 'jpeg', 'webp'], withAlpha: 0.25, broken: 2, duplicates: 1 })
    serve = await startServe()
    browser = await launchChromium()
    ;({ page, problems } = await newPage(browser))
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  it('refuses a wrong token, over HTTP and on the socket', async () => {
    const bad = new URL(serve.url)
    bad.searchParams.set('token', 'not-the-token')
    const res = await fetch(bad)
    expect(res.status).toBe(401)
    expect(await res.text()).toMatch(/token/i)

    const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/ws?token=not-the-token`)
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open'))
      ws.on('unexpected-response', (_req, r) => resolve(`refused ${r.statusCode}`))
      ws.on('error', () => resolve('error'))
    })
    ws.terminate()
    expect(outcome).toBe('refused 401')

    const { page: other, context } = await newPage(browser)
    const response = await other.goto(bad.toString())
    expect(response?.status()).toBe(401)
    await screenshot(other, 'e2e-01-wrong-token')
    await context.close()
  })

  it('opens on the Datasets page with the navigation in place', async () => {
    await page.goto(serve.url)
    for (const name of ['Datasets', 'New run', 'Runs']) await page.getByRole('link', { name }).waitFor()
    await page.getByRole('button', { name: 'Import folder' }).waitFor()
    await screenshot(page, 'e2e-02-datasets-empty')
  })

  it('imports a generated folder through the in-app folder picker', async () => {
    await page.getByRole('button', { name: 'Import folder' }).click()
    const path = page.getByLabel('Folder path')
    await path.fill(folder)
    // The preview shows how the images will be prepared before anything is imported.
    const preview = page.getByRole('region', { name: 'Import preview' })
    await preview.locator('img').first().waitFor({ timeout: 30_000 })
    await screenshot(page, 'e2e-03-import-dialog')
    await page.getByRole('button', { name: 'Import', exact: true }).click()

    const details = page.getByRole('region', { name: /^Dataset / })
    await details.waitFor({ timeout: 120_000 })
    const usable = await details.locator('dt', { hasText: 'Usable images' }).locator('xpath=following-sibling::dd').innerText()
    expect(Number(usable.replace(/,/g, ''))).toBe(IMAGE_COUNT)
    await details.getByText(/skipped/).first().waitFor()
    // The virtualised grid shows prepared images.
    await page.getByRole('region', { name: 'Prepared images' }).locator('img').first().waitFor({ timeout: 30_000 })
    await screenshot(page, 'e2e-04-dataset-imported')
  })

  it('starts a tiny run from the New run page', async () => {
    await page.getByRole('link', { name: 'New run' }).click()
    await page.getByLabel('Resolution').selectOption('32')
    await page.getByLabel('Steps').fill('400')
    await page.getByLabel('Batch size').fill('8')
    await page.getByLabel('Sample every').fill('10')
    // Only engines this machine has can be picked; pick WebAssembly when it is there.
    const wasm = page.getByRole('radio', { name: /WebAssembly/ })
    if (await wasm.isEnabled()) await wasm.check()
    await screenshot(page, 'e2e-05-new-run')
    await page.getByRole('button', { name: 'Start training' }).click()
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 60_000 })
    runUrl = page.url()
  })

  it('shows points on the loss chart and images in the gallery as it trains', async () => {
    const chart = page.getByRole('region', { name: 'Loss chart' })
    await chart.waitFor()
    await expect
      .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 180_000, interval: 500 })
      .toBeGreaterThan(1)
    const gallery = page.getByRole('region', { name: 'Samples' })
    await gallery.locator('img').first().waitFor({ timeout: 180_000 })
    const src = await gallery.locator('img').first().getAttribute('src')
    expect(src).toMatch(/\/files\/runs\/.+\.png\?token=/)
    // The grid really loads (the /files route answers with the image).
    await expect.poll(() => gallery.locator('img').first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0)
    await screenshot(page, 'e2e-06-run-training')
  })

  it('pauses and resumes', async () => {
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 120_000 })
    await page.getByText('Paused', { exact: true }).first().waitFor()
    await screenshot(page, 'e2e-07-run-paused')
    const chart = page.getByRole('region', { name: 'Loss chart' })
    const before = Number(await chart.getAttribute('data-points'))

    await page.getByRole('button', { name: 'Resume' }).click()
    await page.getByRole('button', { name: 'Pause' }).waitFor({ timeout: 120_000 })
    await expect
      .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 180_000, interval: 500 })
      .toBeGreaterThan(before)
  })

  it('stops, and the stopped run can be resumed later', async () => {
    await page.getByRole('button', { name: 'Stop' }).click()
    await page.getByText(/^Stopped/).first().waitFor({ timeout: 120_000 })
    await expect(page.getByRole('button', { name: 'Pause' }).count()).resolves.toBe(0)
    await screenshot(page, 'e2e-08-run-stopped')
  })

  it('after a reload, the run is in the library', async () => {
    await page.reload()
    await page.getByRole('link', { name: 'Runs' }).click()
    const library = page.getByRole('list', { name: 'Run library' })
    await library.waitFor()
    const card = library.getByRole('article').first()
    await card.getByText(/Stopped/).waitFor()
    await expect(card.locator('img').count()).resolves.toBe(1)
    await screenshot(page, 'e2e-09-library')
    // And it opens again, with its chart rebuilt from metrics.jsonl.
    await card.getByRole('link').first().click()
    expect(page.url()).toBe(runUrl)
    const chart = page.getByRole('region', { name: 'Loss chart' })
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(1)
  })

  it('logged no page errors', () => {
    expect(problems).toEqual([])
  })
})
