/**
 * The explore tools in Chromium against the real `gan-studio serve`: a tiny run trained by the CLI,
 * then, as a person would: a timelapse of one grid cell from the run page; variations of a gallery
 * image (recentre, step back, keep the centre in a collection); a named collection that survives a
 * reload and becomes a keyframed walk; and a fine-tune of the run started from the New run page,
 * whose page says where it began. Accessible names only.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, promises as fsp, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, ROOT, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const run = promisify(execFile)
const BASE = 'Moth base'

async function runDirNamed(home: string, name: string): Promise<string> {
  for (const d of readdirSync(join(home, 'runs'))) {
    const json = JSON.parse(await fsp.readFile(join(home, 'runs', d, 'run.json'), 'utf8')) as { name: string }
    if (json.name === name) return join(home, 'runs', d)
  }
  throw new Error(`no run named ${name}`)
}

const naturalWidth = (img: Locator): Promise<number> => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)
const src = (img: Locator): Promise<string | null> => img.getAttribute('src')

describe('Explore tools in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let home: string
  let folder: string
  let baseDir: string

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-explore-'))
    folder = join(work, 'moths')
    await makeImageFolder(folder, { count: 8 })
    const config = join(work, 'tiny.json')
    await fsp.writeFile(config, JSON.stringify({ model: { latentDim: 16, gChannels: 8, dChannels: 8 }, gridSize: 16 }))
    home = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
    const args = [join(ROOT, 'bin', 'gan-studio.js'), 'train', folder, '--name', BASE, '--steps', '6', '--batch', '4', '--backend', 'wasm']
    args.push('--sample-every', '3', '--checkpoint-every', '3', '--config', config)
    await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, GAN_STUDIO_HOME: home }, timeout: 120_000 })
    baseDir = await runDirNamed(home, BASE)
    serve = await startServe({}, { home })
    browser = await launchChromium()
    ;({ page } = await newPage(browser))
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  it('exports a timelapse of one grid image from the run page, steps in order', async () => {
    await page.goto(`${serve.url}#/runs/${baseDir.split(/[\\/]/).pop()}`)
    await page.getByRole('heading', { name: BASE, level: 1 }).waitFor()
    await page.getByRole('button', { name: 'Timelapse' }).click()
    await page.getByLabel('Show').selectOption('cell')
    await page.getByLabel(/^Image \(0–15/).fill('5')
    await page.getByLabel(/^Image \(0–15/).press('Tab')
    await page.getByLabel('Format').selectOption('webp')
    await page.getByRole('button', { name: 'Make timelapse' }).click()
    const img = page.getByRole('img', { name: 'The training timelapse' })
    await img.waitFor({ timeout: 60_000 })
    await expect.poll(() => naturalWidth(img), { timeout: 30_000 }).toBe(128)
    await page.getByText(/3 frames \(steps 0–6\) saved to/).waitFor()
    const meta = await sharp(join(baseDir, 'exports', 'timelapse', 'timelapse-cell-5.webp')).metadata()
    expect(meta).toMatchObject({ format: 'webp', pages: 3 })
    await screenshot(page, 'explore-01-timelapse')
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).last().click()
  })

  it('variations of a gallery image: recentre on a neighbour, step back, keep the centre', async () => {
    await page.getByRole('link', { name: 'Generate' }).click()
    await page.getByRole('heading', { name: 'Generate', level: 1 }).waitFor()
    await page.getByLabel('Seeds').fill('5-8')
    await page.getByRole('button', { name: 'Generate', exact: true }).click()
    const gallery = page.getByRole('region', { name: 'Generated images' })
    await expect.poll(() => gallery.getByRole('img').count(), { timeout: 60_000 }).toBe(4)
    await gallery.getByRole('button', { name: 'Variations of seed 6' }).click()
    const centre = page.getByRole('img', { name: /^Centre: seed 6$/ })
    await centre.waitFor({ timeout: 60_000 })
    const neighbours = page.getByRole('list', { name: 'Neighbours' }).getByRole('img')
    await expect.poll(() => neighbours.count(), { timeout: 30_000 }).toBe(8)
    const first = await src(centre)
    const picked = await src(neighbours.nth(2))
    await screenshot(page, 'explore-02-variations')
    await page.getByRole('button', { name: 'Make variation 3 the centre' }).click()
    const moved = page.getByRole('img', { name: /^Centre: variation of seed 6/ })
    await moved.waitFor({ timeout: 60_000 })
    // The neighbour that was clicked is the new centre, pixel for pixel (same PNG bytes).
    expect(await src(moved)).toBe(picked)
    await page.getByRole('button', { name: 'Back (1)' }).click()
    await centre.waitFor({ timeout: 60_000 })
    expect(await src(centre)).toBe(first)
    // Stronger variations are further from the centre.
    const slider = page.getByRole('slider', { name: 'Strength' })
    await slider.fill('0.9')
    await slider.dispatchEvent('change')
    await page.getByRole('dialog').getByRole('button', { name: /^\+ collection$/ }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).last().click()
    await page.getByRole('list', { name: 'Items in the collection' }).getByText('seed 6').waitFor({ timeout: 30_000 })
  })

  it('a named collection survives a reload and becomes a keyframed walk', async () => {
    await page.getByLabel('New collection name').fill('Night path')
    await page.getByRole('button', { name: 'Make', exact: true }).click()
    await expect.poll(() => page.getByLabel('Current collection').inputValue()).toBe('Night path')
    const gallery = page.getByRole('region', { name: 'Generated images' })
    for (const seed of [5, 8]) await gallery.getByRole('button', { name: `Add seed ${seed} to the collection` }).click()
    const items = page.getByRole('list', { name: 'Items in the collection' })
    await expect.poll(() => items.getByRole('listitem').count()).toBe(2)
    const onDisk = JSON.parse(await fsp.readFile(join(baseDir, 'favorites.json'), 'utf8')) as { collections: { name: string; items: { seed: number | null }[] }[] }
    expect(onDisk.collections.map((c) => c.name)).toEqual(['Picks', 'Night path'])

    await page.reload()
    await expect.poll(() => page.getByLabel('Current collection').locator('option').allInnerTexts(), { timeout: 30_000 }).toEqual(['Picks (1)', 'Night path (2)'])
    await page.getByLabel('Current collection').selectOption('Night path')
    await page.getByRole('button', { name: 'Show images' }).click()
    await expect.poll(() => page.getByRole('list', { name: 'Items in the collection' }).getByRole('img').count(), { timeout: 60_000 }).toBe(2)
    await page.getByRole('button', { name: 'Walk through it' }).click()
    await page.getByText('Keyframes: the 2 items of “Night path”.').waitFor()
    await page.getByLabel('Frames per second').fill('6')
    await page.getByLabel('Frames per second').press('Tab')
    await page.getByLabel('Easing').selectOption('linear')
    await page.getByRole('button', { name: 'Make walk' }).click()
    const walk = page.getByRole('img', { name: 'The latent walk' })
    await walk.waitFor({ timeout: 120_000 })
    await screenshot(page, 'explore-03-collection-walk')
  })

  it('fine-tunes the run from the New run page; the new run says where it started', async () => {
    await page.getByRole('link', { name: 'New run' }).first().click()
    await page.getByRole('heading', { name: 'New run', level: 1 }).waitFor()
    await page.getByLabel('Start from').selectOption({ label: `${BASE} — 32 px, step 6` })
    await page.getByRole('complementary', { name: 'Run summary' }).getByText(BASE).waitFor()
    await page.getByLabel('Resolution').selectOption('64')
    await page.getByRole('alert').filter({ hasText: /Cannot start from “Moth base”: it makes 32 px pictures, this run 64 px/ }).waitFor()
    await screenshot(page, 'explore-04-fine-tune-mismatch')
    await page.getByLabel('Resolution').selectOption('32')
    await page.getByLabel('Steps', { exact: true }).fill('3')
    await page.getByRole('button', { name: /Start training/ }).click()
    await page.getByText(`Fine-tuned from ${BASE} at step 6`).waitFor({ timeout: 60_000 })
    await screenshot(page, 'explore-05-fine-tuned-run')
  })
})
