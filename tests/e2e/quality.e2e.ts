/**
 * The quality meter in Chromium against the real `gan-studio serve`. A tiny run is trained with the
 * CLI (quality measured every 3 steps); in the studio its Run view shows the Quality chart beside
 * the losses and, since a few steps of a tiny generator give near-identical images, the collapse
 * alert with what to try. "Train longer" continues it in the studio's trainer: the chart gains the
 * new measurement live. Picking a sample in the gallery shows its nearest training images.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, promises as fsp, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MetricRecord } from '@shared/runs'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, ROOT, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const run = promisify(execFile)
const CONFIG = { model: { latentDim: 16, gChannels: 8, dChannels: 8 }, gridSize: 16, quality: { every: 3, images: 16 } }

async function metrics(dir: string): Promise<MetricRecord[]> {
  const text = await fsp.readFile(join(dir, 'metrics.jsonl'), 'utf8')
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricRecord)
}

describe('Quality meter in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  let home: string
  let dir: string

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-quality-'))
    const folder = join(work, 'moths')
    await makeImageFolder(folder, { count: 16 })
    const config = join(work, 'tiny.json')
    await fsp.writeFile(config, JSON.stringify(CONFIG))
    home = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
    const train = async (name: string, steps: number, seed: number): Promise<void> => {
      const args = [join(ROOT, 'bin', 'gan-studio.js'), 'train', folder, '--name', name, '--steps', String(steps), '--seed', String(seed), '--batch', '4', '--backend', 'wasm']
      args.push('--sample-every', '3', '--checkpoint-every', '3', '--config', config)
      await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, GAN_STUDIO_HOME: home }, timeout: 180_000 })
    }
    await train('Quality moths', 6, 1)
    dir = join(home, 'runs', readdirSync(join(home, 'runs'))[0]!)
    await train('Other moths', 3, 2)
    serve = await startServe({}, { home })
    browser = await launchChromium()
    ;({ page, problems } = await newPage(browser))
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  it('shows the Quality chart beside the losses, and the collapse alert the measurements call for', async () => {
    const measured = (await metrics(dir)).filter((m) => m.quality)
    expect(measured.map((m) => m.step)).toEqual([3, 6])
    const variety = measured.at(-1)!.quality!.variety!
    console.log(`quality at step 6: ${JSON.stringify(measured.at(-1)!.quality)}`)
    // Six steps of a tiny generator: every seed still gives nearly the same picture.
    expect(variety).toBeLessThan(0.5)

    await page.goto(`${serve.url}#/runs/${dir.split(/[\\/]/).pop()}`)
    await page.getByRole('heading', { name: 'Quality moths', level: 1 }).waitFor()
    const chart = page.getByRole('region', { name: 'Quality chart' })
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 30_000 }).toBe('2')
    await chart.getByRole('heading', { name: 'Quality' }).waitFor()
    // Beside the losses: the two charts share a row.
    const loss = await page.getByRole('region', { name: 'Loss chart' }).boundingBox()
    const quality = await chart.boundingBox()
    expect(Math.abs(loss!.y - quality!.y)).toBeLessThan(4)
    expect(quality!.x).toBeGreaterThan(loss!.x + loss!.width - 1)
    const canvasLabel = await chart.locator('canvas').getAttribute('aria-label')
    expect(canvasLabel).toMatch(/2 measurements up to step 6/)

    const alert = page.getByRole('region', { name: 'Quality alerts' }).getByRole('status').filter({ hasText: 'The samples all look alike: the generator may be collapsing.' })
    await alert.waitFor()
    await alert.getByText('What to try:').waitFor()
    await alert.getByText(/Turn on augmentation/).waitFor()
    await screenshot(page, 'quality-01-run-view')
  })

  it('measures again while training continues in the studio, and the chart follows live', async () => {
    await page.getByRole('button', { name: 'Train longer' }).click()
    await page.getByLabel('Train until step').fill('9')
    await page.getByRole('button', { name: 'Continue training' }).click()
    const chart = page.getByRole('region', { name: 'Quality chart' })
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 180_000 }).toBe('3')
    await expect.poll(async () => (await chart.locator('canvas').getAttribute('aria-label')) ?? '', { timeout: 10_000 }).toMatch(/3 measurements up to step 9/)
    await expect.poll(async () => (await metrics(dir)).filter((m) => m.quality).map((m) => m.step), { timeout: 30_000 }).toEqual([3, 6, 9])
    await screenshot(page, 'quality-02-after-train-longer')
  })

  it('shows the three training images nearest a sample picked in the gallery', async () => {
    const gallery = page.getByRole('region', { name: 'Samples' })
    await gallery.getByRole('button', { name: 'Nearest training images' }).click()
    await gallery.getByRole('group', { name: /Pick a sample at step 9/ }).waitFor()
    await screenshot(page, 'quality-03-pick-sample')
    await gallery.getByRole('button', { name: 'Sample 5', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: /Nearest training images · sample 5 at step 9/ })
    await dialog.waitFor()
    await dialog.getByRole('img', { name: 'sample 5 at step 9, as compared' }).waitFor({ timeout: 30_000 })
    await expect.poll(() => dialog.getByRole('img', { name: /^Training image / }).count(), { timeout: 30_000 }).toBe(3)
    await dialog.getByText(/distance \d\.\d{3}/).first().waitFor()
    await dialog.getByText(/is typically \d\.\d{3} away/).waitFor()
    await screenshot(page, 'quality-04-nearest')
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached' })
  })

  it('overlays the runs’ quality in Compare', async () => {
    await page.getByRole('link', { name: 'Compare' }).click()
    await page.getByRole('heading', { name: 'Compare runs', level: 1 }).waitFor()
    await page.getByRole('checkbox', { name: /^Quality moths/ }).check()
    await page.getByRole('checkbox', { name: /^Other moths/ }).check()
    await page.getByRole('button', { name: 'Compare', exact: true }).click()
    const section = page.getByRole('region', { name: 'Quality comparison chart' })
    await section.getByRole('img', { name: /^Quality of 2 runs\. Quality moths: swd \d+\.\d+ at step 9; Other moths: swd \d+\.\d+ at step 3$/ }).waitFor({ timeout: 60_000 })
    await section.getByLabel('Measure').selectOption('variety')
    await section.getByRole('img', { name: /Quality moths: variety 0\.\d+ at step 9/ }).waitFor()
    const summary = page.getByRole('table', { name: 'Summary of each run' })
    const header = await summary.locator('thead th').allInnerTexts()
    expect(header).toEqual(expect.arrayContaining(['SWD', 'Variety']))
    await section.scrollIntoViewIfNeeded()
    await screenshot(page, 'quality-05-compare')
    expect(problems).toEqual([])
  })
})
