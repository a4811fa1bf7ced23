/**
 * Directions (sliders) in Chromium against the real `gan-studio serve`: a tiny run trained by the
 * CLI, then, as a person would: open the sliders on a gallery image (the run's principal directions
 * are found by a trainer child the first time), drag a slider and watch the image change while
 * dragging, take an image from the strip, reset, save a direction by name (flipped), rename it and
 * use it as a slider, keep the edited image in a collection, add it to a walk, walk along a
 * direction; the second opening reads the directions the first one kept in the run folder (and so
 * does the CLI). Accessible names only.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, promises as fsp, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, ROOT, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const run = promisify(execFile)
const NAME = 'Lantern moths'

const src = (img: Locator): Promise<string | null> => img.getAttribute('src')

describe('Directions (sliders) in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  let home: string
  let runDir: string

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-directions-'))
    const folder = join(work, 'moths')
    await makeImageFolder(folder, { count: 8 })
    const config = join(work, 'tiny.json')
    await fsp.writeFile(config, JSON.stringify({ model: { latentDim: 16, gChannels: 8, dChannels: 8 }, gridSize: 16 }))
    home = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
    const args = [join(ROOT, 'bin', 'gan-studio.js'), 'train', folder, '--name', NAME, '--steps', '6', '--batch', '4', '--backend', 'wasm']
    args.push('--sample-every', '3', '--checkpoint-every', '3', '--config', config)
    await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, GAN_STUDIO_HOME: home }, timeout: 120_000 })
    runDir = join(home, 'runs', readdirSync(join(home, 'runs'))[0]!)
    serve = await startServe({}, { home })
    browser = await launchChromium()
    ;({ page, problems } = await newPage(browser))
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  it('sliders change the image live, the strip and reset agree with it, a direction is saved, renamed and used', async () => {
    await page.goto(serve.url)
    await page.getByRole('link', { name: 'Generate' }).click()
    await page.getByRole('heading', { name: 'Generate', level: 1 }).waitFor()
    await page.getByLabel('Seeds').fill('5-8')
    await page.getByRole('button', { name: 'Generate', exact: true }).click()
    const gallery = page.getByRole('region', { name: 'Generated images' })
    await expect.poll(() => gallery.getByRole('img').count(), { timeout: 60_000 }).toBe(4)
    await gallery.getByRole('button', { name: 'Directions of seed 6' }).click()

    const dialog = page.getByRole('dialog', { name: 'Directions' })
    const pc1 = dialog.getByRole('slider', { name: 'PC1', exact: true })
    await pc1.waitFor({ timeout: 120_000 })
    await expect.poll(() => dialog.getByRole('list', { name: 'Principal directions' }).getByRole('slider').count()).toBe(10)
    const preview = dialog.getByRole('img', { name: /^Current image: seed 6/ })
    await preview.waitFor()
    const original = await src(preview)
    const strip = dialog.getByRole('list', { name: 'Strip' })
    await expect.poll(() => strip.getByRole('img').count(), { timeout: 60_000 }).toBe(5)
    await expect.poll(() => src(strip.getByRole('img').nth(2)), { timeout: 30_000 }).toBe(original)
    await dialog.getByText(/Directions of step 6 · 4,096 samples · found in/).waitFor()

    // Drag PC1 with the mouse: the image changes while dragging, not only at the end.
    const box = (await pc1.boundingBox())!
    const seen = new Set<string>()
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.down()
    for (let i = 1; i <= 12; i++) {
      await page.mouse.move(box.x + box.width / 2 + (i * box.width) / 28, box.y + box.height / 2)
      await page.waitForTimeout(120)
      const now = await src(preview)
      if (now && now !== original) seen.add(now)
    }
    await page.mouse.up()
    expect(seen.size).toBeGreaterThanOrEqual(2)
    await dialog.getByText(/^seed 6 · PC1 \+\d\.\d$/).waitFor()
    const moved = Number(await pc1.inputValue())
    expect(moved).toBeGreaterThan(1)
    // The strip's centre is the current image, pixel for pixel.
    await expect.poll(async () => (await src(strip.getByRole('img').nth(2))) === (await src(preview)), { timeout: 30_000 }).toBe(true)

    // Take "−1" from the strip: the slider moves by −1.
    await dialog.getByRole('button', { name: 'Take PC1 −1.0' }).click()
    await expect.poll(async () => Number(await pc1.inputValue())).toBeCloseTo(moved - 1, 5)
    await dialog.getByRole('button', { name: 'Reset' }).click()
    await expect.poll(() => src(preview), { timeout: 30_000 }).toBe(original)
    expect(Number(await pc1.inputValue())).toBe(0)

    // Save PC2, flipped, as "Dusk"; rename it; use it as a slider.
    await dialog.getByLabel('Name').fill('Dusk')
    await dialog.getByLabel('Direction', { exact: true }).selectOption('pc2')
    await dialog.getByLabel('Flip').check()
    await dialog.getByRole('button', { name: 'Save direction' }).click()
    const saved = dialog.getByRole('list', { name: 'Saved directions' })
    await saved.getByRole('slider', { name: 'Dusk' }).waitFor()
    const stored = JSON.parse(await fsp.readFile(join(runDir, 'directions.json'), 'utf8')) as { directions: { name: string; component: number; step: number }[] }
    expect(stored.directions).toMatchObject([{ name: 'Dusk', component: 2, step: 6 }])
    await saved.getByRole('button', { name: 'Rename Dusk' }).click()
    await dialog.getByLabel('New name for Dusk').fill('Evening')
    await dialog.getByLabel('New name for Dusk').press('Enter')
    const evening = saved.getByRole('slider', { name: 'Evening' })
    await evening.waitFor()
    await evening.fill('1.5')
    await dialog.getByText('seed 6 · Evening +1.5').waitFor()
    await expect.poll(() => src(preview), { timeout: 30_000 }).not.toBe(original)
    await pc1.fill('-2')
    await dialog.getByText('seed 6 · PC1 −2.0 · Evening +1.5').waitFor()
    await page.waitForTimeout(800)
    await screenshot(page, 'directions-01-sliders')

    // Keep the edited image in a collection (as a latent with its name).
    await dialog.getByRole('button', { name: '+ collection' }).click()
    await expect
      .poll(async () => {
        const fav = JSON.parse(await fsp.readFile(join(runDir, 'favorites.json'), 'utf8').catch(() => '{"collections":[]}')) as { collections: { items: { latent: number[] | null; label: string }[] }[] }
        return fav.collections.flatMap((c) => c.items).find((i) => i.latent)?.label ?? null
      })
      .toBe('seed 6 · PC1 −2.0 · Evening +1.5')

    // Walk along PC1: the dialog closes and the walk is made.
    await dialog.getByRole('button', { name: 'Show PC1 in the strip' }).click()
    await dialog.getByRole('button', { name: 'Walk along' }).click()
    await page.getByText('A loop along PC1 (±2) from seed 6 · PC1 −2.0 · Evening +1.5.').waitFor()
    const walk = page.getByRole('img', { name: 'The latent walk' })
    await walk.waitFor({ timeout: 120_000 })
    await walk.scrollIntoViewIfNeeded()
    await screenshot(page, 'directions-02-walk-along')
    expect(problems).toEqual([])
  })

  it('a second opening reads the kept directions; an edited image joins a walk with seeds; a saved direction is deleted', async () => {
    const gallery = page.getByRole('region', { name: 'Generated images' })
    await page.getByRole('button', { name: 'Use typed keyframes' }).click()
    await page.getByLabel('Keyframes').fill('5, 7')
    await gallery.getByRole('button', { name: 'Directions of seed 8' }).click()
    const dialog = page.getByRole('dialog', { name: 'Directions' })
    await dialog.getByRole('slider', { name: 'PC1', exact: true }).waitFor({ timeout: 60_000 })
    await dialog.getByText(/Directions of step 6 · 4,096 samples · kept with the run/).waitFor()
    await dialog.getByRole('slider', { name: 'PC3' }).fill('2.5')
    await dialog.getByText('seed 8 · PC3 +2.5').waitFor()
    await dialog.getByRole('button', { name: 'Delete Evening' }).click()
    await dialog.getByRole('button', { name: 'Really delete Evening' }).click()
    await expect.poll(() => dialog.getByRole('list', { name: 'Saved directions' }).count()).toBe(0)
    expect(JSON.parse(await fsp.readFile(join(runDir, 'directions.json'), 'utf8'))).toMatchObject({ directions: [] })
    await dialog.getByRole('button', { name: '+ walk' }).click()
    await dialog.getByRole('button', { name: 'Close' }).last().click()
    await page.getByText('Keyframes: seeds 5, 7 and 1 chosen image.').waitFor()
    await page.getByRole('button', { name: 'Make walk' }).click()
    await page.getByRole('img', { name: 'The latent walk' }).waitFor({ timeout: 120_000 })
    await page.getByText(/frames saved to/).waitFor()

    // The CLI reads what the studio kept.
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'gan-studio.js'), 'explore', 'directions', runDir, '--json', '--count', '3'], { cwd: ROOT, env: { ...process.env, GAN_STUDIO_HOME: home } })
    expect(JSON.parse(stdout)).toMatchObject({ cached: true, step: 6, samples: 4096 })
    expect(problems).toEqual([])
  })
})
