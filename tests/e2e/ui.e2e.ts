/**
 * The built studio UI in Chromium against the real `gan-studio serve` and the real trainer, in
 * states that take hours to reach by training: a finished run with 100,000 chart points and a run
 * that crashed, written into the studio home before serve starts (real run folders with real
 * checkpoints, made without training). Checks smoothness, zoom, keyboard use, layout stability while
 * a tiny run really trains, and both themes.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { updateRun } from '../../src/main/trainer/run/runs'
import { makeImageFolder } from '../helpers/images'
import { makeTinyRun } from '../main/generate/fixture'
import { launchChromium, newPage, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

// Runs against the built app; scripts/e2e.mjs (and npm test) build it first.
if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const POINTS = 100_000

/** Two run folders: a finished run with POINTS logged steps, and one that crashed at step 1,370. */
async function seedRuns(home: string): Promise<void> {
  await tf.setBackend('cpu')
  const runs = join(home, 'runs')
  const steps = POINTS * 10
  const long = await makeTinyRun(runs, {
    overrides: { name: 'Moths — long night', steps },
    steps: Array.from({ length: 10 }, (_, k) => ((k + 1) * steps) / 10)
  })
  await updateRun(long.dir, { status: 'completed', createdAt: '2025-03-02T21:00:00.000Z' })
  const crashed = await makeTinyRun(runs, { overrides: { name: 'Moths — big model', steps: 4000 }, steps: [200, 400, 600, 800, 1000] })
  await updateRun(crashed.dir, {
    status: 'failed',
    step: 1370,
    createdAt: '2025-03-03T22:00:00.000Z',
    error: { code: 'crashed', message: 'The training process ran out of memory at step 1,370. Try a smaller batch size.' }
  })
}

/** Longest gap between animation frames while `action` runs, in ms. */
async function longestFrameDuring(page: Page, action: () => Promise<void>): Promise<number> {
  await page.evaluate(() => {
    const w = globalThis as unknown as { __gaps: number[]; __stop: boolean; requestAnimationFrame(cb: (t: number) => void): number }
    w.__gaps = []
    w.__stop = false
    let last = 0
    const tick = (t: number): void => {
      if (last) w.__gaps.push(t - last)
      last = t
      if (!w.__stop) w.requestAnimationFrame(tick)
    }
    w.requestAnimationFrame(tick)
  })
  await action()
  return page.evaluate(() => {
    const w = globalThis as unknown as { __gaps: number[]; __stop: boolean }
    w.__stop = true
    return Math.max(0, ...w.__gaps)
  })
}

describe('studio UI under load, through gan-studio serve', () => {
  let studio: ServeProcess
  let browser: Browser
  let pictures: string

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'gan-studio-ui-'))
    pictures = join(work, 'pictures', 'moths')
    await makeImageFolder(pictures, { count: 20, formats: ['png', 'jpeg'] })
    const home = join(work, 'home')
    await seedRuns(home)
    studio = await startServe({}, { home })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await studio?.stop()
  })

  it('a run with 100,000 points opens quickly and zooms smoothly', async () => {
    const { page, problems, context } = await newPage(browser)
    await page.goto(studio.url)
    await page.getByRole('link', { name: 'Runs' }).click()
    const t0 = Date.now()
    await page.getByRole('link', { name: 'Moths — long night' }).click()
    const chart = page.getByRole('region', { name: 'Loss chart' })
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBe(POINTS)
    const openMs = Date.now() - t0
    expect(openMs).toBeLessThan(10_000)
    await screenshot(page, 'ui-01-100k-points')

    const plot = chart.locator('canvas')
    const box = (await plot.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2)
    const worst = await longestFrameDuring(page, async () => {
      for (let i = 0; i < 12; i++) {
        await page.mouse.wheel(0, -120)
        await page.waitForTimeout(30)
      }
      await page.waitForTimeout(200)
    })
    // One dropped frame here or there is fine; a redraw of 100,000 points per frame is not.
    expect(worst).toBeLessThan(250)
    await expect(page.getByRole('button', { name: 'Reset zoom' }).isEnabled()).resolves.toBe(true)
    await expect(plot.getAttribute('aria-label')).resolves.toMatch(/Zoomed to steps/)
    await screenshot(page, 'ui-02-zoomed')

    // Drag to zoom further, then reset.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.getByRole('button', { name: 'Reset zoom' }).click()
    await expect(page.getByRole('button', { name: 'Reset zoom' }).isEnabled()).resolves.toBe(false)

    // Smoothing redraws 100,000 points without stalling.
    const slider = page.getByLabel('Smoothing')
    const worstSmoothing = await longestFrameDuring(page, async () => {
      await slider.fill('0.9')
      await page.waitForTimeout(200)
    })
    expect(worstSmoothing).toBeLessThan(400)
    expect(problems).toEqual([])
    await context.close()
  })

  it('a crashed run shows as resumable, in the library and on its page', async () => {
    const { page, context } = await newPage(browser)
    await page.goto(studio.url)
    await page.getByRole('link', { name: 'Runs' }).click()
    const card = page.getByRole('article', { name: 'Moths — big model' })
    await card.getByText('Interrupted · resumable').waitFor()
    await card.getByRole('button', { name: /Resume/ }).waitFor()
    await screenshot(page, 'ui-03-library-crashed')
    await card.getByRole('link', { name: 'Moths — big model' }).click()
    await page.getByRole('alert').filter({ hasText: 'ran out of memory' }).waitFor()
    await page.getByRole('button', { name: 'Resume' }).waitFor()
    await screenshot(page, 'ui-04-crashed-run')
    await context.close()
  })

  it('dialogs work from the keyboard: Escape closes and gives focus back, Enter imports', async () => {
    const { page, context } = await newPage(browser)
    await page.goto(studio.url)
    const open = page.getByRole('button', { name: 'Import folder' })
    await open.focus()
    await page.keyboard.press('Enter')
    const path = page.getByLabel('Folder path')
    await expect(path.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement)).resolves.toBe(true)
    // While the dialog is open, only its own "Import" button is offered.
    await expect(page.getByRole('button', { name: 'Import' }).count()).resolves.toBe(1)
    await page.keyboard.press('Escape')
    await expect(path.count()).resolves.toBe(0)
    await expect(open.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement)).resolves.toBe(true)

    await page.keyboard.press('Enter')
    await page.getByLabel('Folder path').fill(pictures)
    await page.keyboard.press('Enter')
    await page.getByRole('region', { name: /^Dataset / }).waitFor({ timeout: 120_000 })
    await context.close()
  })

  it('nothing moves while training (fixed chart and gallery boxes)', async () => {
    const { page, context } = await newPage(browser)
    await page.goto(studio.url)
    await page.getByRole('link', { name: 'New run' }).click()
    // A tiny run on this machine's CPU: the real trainer, small enough to log often.
    await page.getByLabel('Resolution').selectOption('32')
    await page.getByLabel('Steps').fill('2000')
    await page.getByLabel('Batch size').fill('8')
    await page.getByLabel('Sample every').fill('10')
    const wasm = page.getByRole('radio', { name: /WebAssembly/ })
    if (await wasm.isEnabled()) await wasm.check()
    await page.getByRole('button', { name: 'Start training' }).click()
    const chart = page.getByRole('region', { name: 'Loss chart' })
    const gallery = page.getByRole('region', { name: 'Samples' })
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 180_000, interval: 500 }).toBeGreaterThan(3)
    await gallery.locator('img').first().waitFor({ timeout: 180_000 })
    const boxes = async () => [await chart.boundingBox(), await gallery.boundingBox(), await page.getByRole('button', { name: 'Pause' }).boundingBox()]
    const before = await boxes()
    await page.waitForTimeout(2500)
    const after = await boxes()
    expect(after).toEqual(before)
    await page.getByRole('button', { name: 'Stop' }).click()
    await page.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 120_000 })
    await context.close()
  })

  it('reads well in the dark theme', async () => {
    const { page, context } = await newPage(browser, { colorScheme: 'dark' })
    await page.goto(studio.url)
    await page.getByRole('link', { name: 'Runs' }).click()
    await page.getByRole('list', { name: 'Run library' }).waitFor()
    await screenshot(page, 'ui-05-dark-library')
    await page.getByRole('link', { name: 'Moths — big model' }).click()
    await page.getByRole('region', { name: 'Loss chart' }).waitFor()
    await page.waitForTimeout(300)
    await screenshot(page, 'ui-06-dark-run')
    const bg = await page.evaluate(() => {
      const g = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } }
      return g.getComputedStyle(g.document.body).backgroundColor
    })
    expect(bg).toBe('rgb(15, 17, 21)')
    await context.close()
  })
})
