/**
 * The Generate and Compare views in Chromium against the real `gan-studio serve`. Two tiny finished
 * runs are trained with the CLI into the studio home before serve starts (they differ in exactly two
 * settings: steps and seed). Then, as a person would: make images for a seed range, star one and find
 * it again after a reload, make a looping GIF walk, make images while a long walk renders and cancel
 * that walk, pull the truncation slider, export the model; pick
 * both runs in Compare, read the chart, the settings that differ, the grids and the summary, and tag
 * a run. Accessible names only.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, promises as fsp, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeImageFolder } from '../helpers/images'
import { launchChromium, newPage, ROOT, screenshot } from './support/browser'
import { serveIsBuilt, startServe, type ServeProcess } from './support/serve'

// Runs against the built app; scripts/e2e.mjs (and npm test) build it first.
if (!serveIsBuilt()) throw new Error('out/ is missing: run `npm run build` first (scripts/e2e.mjs does).')

const run = promisify(execFile)
const TINY = { model: { latentDim: 16, gChannels: 8, dChannels: 8 }, gridSize: 16 }
const RUN_A = { name: 'Moths A', steps: 6, seed: 1 }
const RUN_B = { name: 'Moths B', steps: 9, seed: 2 }

/** `gan-studio train` into `home`: a tiny run that finishes in seconds on WebAssembly. */
async function trainTiny(home: string, folder: string, config: string, r: typeof RUN_A): Promise<void> {
  const args = [join(ROOT, 'bin', 'gan-studio.js'), 'train', folder, '--name', r.name, '--steps', String(r.steps), '--seed', String(r.seed)]
  args.push('--batch', '4', '--backend', 'wasm', '--sample-every', '3', '--checkpoint-every', '3', '--config', config)
  await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, GAN_STUDIO_HOME: home }, timeout: 120_000 })
}

/** The run folder whose run.json carries this name. */
async function runDir(home: string, name: string): Promise<string> {
  for (const d of readdirSync(join(home, 'runs'))) {
    const json = JSON.parse(await fsp.readFile(join(home, 'runs', d, 'run.json'), 'utf8')) as { name: string }
    if (json.name === name) return join(home, 'runs', d)
  }
  throw new Error(`no run named ${name}`)
}

/** Each image's decoded pixels (the PNGs themselves differ: their text metadata names the seed). */
const pixelsOf = (imgs: Locator): Promise<string[]> =>
  imgs.evaluateAll((els) =>
    els.map((el) => {
      const img = el as unknown as { naturalWidth: number; naturalHeight: number; ownerDocument: { createElement(t: 'canvas'): { width: number; height: number; getContext(k: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } } }
      const canvas = img.ownerDocument.createElement('canvas')
      canvas.width = img.naturalWidth
      canvas.height = img.naturalHeight
      const ctx = canvas.getContext('2d')
      ctx.drawImage(img, 0, 0)
      return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data).join(',')
    })
  )

const naturalWidth = (img: Locator): Promise<number> => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)

describe('Generate and Compare in a browser, through gan-studio serve', () => {
  let serve: ServeProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  let home: string
  let dirA: string
  let dirB: string

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-gen-'))
    const folder = join(work, 'moths')
    await makeImageFolder(folder, { count: 8 })
    const config = join(work, 'tiny.json')
    await fsp.writeFile(config, JSON.stringify(TINY))
    home = mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
    await trainTiny(home, folder, config, RUN_A)
    await trainTiny(home, folder, config, RUN_B)
    dirA = await runDir(home, RUN_A.name)
    dirB = await runDir(home, RUN_B.name)
    serve = await startServe({}, { home })
    browser = await launchChromium()
    ;({ page, problems } = await newPage(browser))
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  const gallery = (): Locator => page.getByRole('region', { name: 'Generated images' })
  const galleryImages = (): Locator => gallery().getByRole('img')
  const generate = async (): Promise<void> => {
    await page.getByRole('button', { name: 'Generate', exact: true }).click()
    await expect.poll(() => gallery().getAttribute('aria-busy'), { timeout: 60_000 }).toBe('false')
    await page.getByRole('button', { name: 'Generate', exact: true }).waitFor()
  }

  it('opens Generate from the navigation and picks a run', async () => {
    await page.goto(serve.url)
    await page.getByRole('link', { name: 'Generate' }).click()
    await page.getByRole('heading', { name: 'Generate', level: 1 }).waitFor()
    const runSelect = page.getByLabel('Run', { exact: true })
    await runSelect.selectOption({ label: `${RUN_A.name} · ${RUN_A.steps} steps` })
    await page.waitForURL(/#\/generate\?run=/)
    // The newest checkpoint is the finished one.
    await expect.poll(() => page.getByLabel('Checkpoint').locator('option').first().innerText()).toBe(`Newest (step ${RUN_A.steps})`)
  })

  it('generates one image per seed of a range, each named by its seed', async () => {
    await page.getByLabel('Seeds').fill('5-8')
    await generate()
    const imgs = galleryImages()
    await expect.poll(() => imgs.count(), { timeout: 60_000 }).toBe(4)
    const alts = await imgs.evaluateAll((els) => els.map((e) => e.getAttribute('alt')))
    expect(alts).toEqual(['Seed 5', 'Seed 6', 'Seed 7', 'Seed 8'])
    for (const seed of [5, 6, 7, 8]) {
      const img = gallery().getByRole('img', { name: `Seed ${seed}`, exact: true })
      await expect.poll(() => naturalWidth(img), { timeout: 30_000 }).toBe(32)
      await gallery().getByText(`#${seed}`, { exact: true }).waitFor()
      await gallery().getByRole('button', { name: `Star seed ${seed}` }).waitFor()
    }
    // Different seeds, different images.
    expect(new Set(await pixelsOf(imgs)).size).toBe(4)
    await gallery().getByText(`step ${RUN_A.steps} · ψ 1.00`).waitFor()
    await screenshot(page, 'gen-01-images')
  })

  it('stars a seed, and the star is still there after a reload', async () => {
    const star = gallery().getByRole('button', { name: 'Star seed 6' })
    await expect(star.getAttribute('aria-pressed')).resolves.toBe('false')
    await star.click()
    await expect.poll(() => star.getAttribute('aria-pressed')).toBe('true')
    await page.getByRole('heading', { name: /Favourites \(1\)/ }).waitFor()
    // Kept with the run, on disk.
    const onDisk = async (): Promise<unknown> => (JSON.parse(await fsp.readFile(join(dirA, 'favorites.json'), 'utf8').catch(() => '{}')) as { seeds?: unknown }).seeds
    await expect.poll(onDisk, { timeout: 10_000 }).toEqual([6])
    await screenshot(page, 'gen-02-starred')

    await page.reload()
    await page.getByRole('heading', { name: /Favourites \(1\)/ }).waitFor({ timeout: 30_000 })
    await expect(page.getByLabel('Run', { exact: true }).inputValue()).resolves.toBe(dirA.split(/[\\/]/).pop())
    await page.getByRole('button', { name: 'Show favourites' }).click()
    await expect(page.getByLabel('Seeds').inputValue()).resolves.toBe('6')
    await page.getByLabel('Seeds').fill('5-8')
    await generate()
    await expect.poll(() => galleryImages().count(), { timeout: 60_000 }).toBe(4)
    await expect(gallery().getByRole('button', { name: 'Star seed 6' }).getAttribute('aria-pressed')).resolves.toBe('true')
    await expect(gallery().getByRole('button', { name: 'Star seed 5' }).getAttribute('aria-pressed')).resolves.toBe('false')
  })

  it('makes a short looping GIF walk and shows it when done', async () => {
    for (const seed of [5, 7]) await gallery().getByRole('button', { name: `Add seed ${seed} to the walk` }).click()
    await expect(page.getByLabel('Keyframes').inputValue()).resolves.toBe('5, 7')
    await page.getByLabel('Seconds').fill('1')
    await page.getByLabel('Seconds').press('Tab')
    await page.getByLabel('Frames per second').fill('6')
    await page.getByLabel('Frames per second').press('Tab')
    await page.getByLabel('Format').selectOption('gif')
    await page.getByText('6 frames · ψ 1.00').waitFor()
    await page.getByRole('button', { name: 'Make walk' }).click()
    await page.getByRole('progressbar', { name: 'Walk progress' }).waitFor()
    const walk = page.getByRole('img', { name: 'The latent walk' })
    await walk.waitFor({ timeout: 120_000 })
    await expect.poll(() => naturalWidth(walk), { timeout: 30_000 }).toBe(32)
    await expect(page.getByRole('progressbar', { name: 'Walk progress' }).getAttribute('aria-valuetext')).resolves.toMatch(/^Done: \d+ of \d+ frames$/)
    const status = page.getByRole('status').filter({ hasText: 'frames saved to' })
    await status.getByText(/^6 frames saved to/).waitFor()
    const file = await status.locator('code').innerText()
    expect(file).toMatch(/^exports\/walks\/.+\.gif$/)
    const bytes = await fsp.readFile(join(dirA, file))
    expect(bytes.subarray(0, 6).toString('latin1')).toMatch(/^GIF8[79]a$/)
    expect(bytes.includes(Buffer.from('NETSCAPE2.0', 'latin1'))).toBe(true) // loops
    await screenshot(page, 'gen-03-walk')
  })

  it('keeps answering while a long walk renders, and the walk can be cancelled, leaving nothing behind', async () => {
    await page.getByLabel('Keyframes').fill('5, 7')
    await page.getByLabel('Seconds').fill('120')
    await page.getByLabel('Seconds').press('Tab')
    await page.getByLabel('Frames per second').fill('60')
    await page.getByLabel('Frames per second').press('Tab')
    await page.getByLabel('Format').selectOption('png')
    await page.getByText('7,200 frames · ψ 1.00').waitFor()
    await page.getByRole('button', { name: 'Make walk' }).click()
    const progress = page.getByRole('progressbar', { name: 'Walk progress' })
    const rendered = async (): Promise<number> => Number(/^Rendering frames: (\d+) of 7200 frames$/.exec((await progress.getAttribute('aria-valuetext')) ?? '')?.[1] ?? 0)
    await expect.poll(rendered, { timeout: 120_000 }).toBeGreaterThan(0)

    // Other requests are answered meanwhile: new images arrive while frames are still rendering.
    await page.getByLabel('Seeds').fill('20-21')
    await generate()
    await expect.poll(() => galleryImages().count(), { timeout: 60_000 }).toBe(2)
    await gallery().getByRole('img', { name: 'Seed 21', exact: true }).waitFor()
    const cancel = page.getByRole('button', { name: 'Cancel walk' })
    expect(await cancel.isVisible()).toBe(true)
    expect(await rendered()).toBeLessThan(7200)
    await screenshot(page, 'gen-04-walk-rendering')

    await cancel.click()
    await page.getByRole('status').filter({ hasText: 'The walk was cancelled' }).waitFor({ timeout: 60_000 })
    await expect(page.getByRole('button', { name: 'Cancel walk' }).count()).resolves.toBe(0)
    await expect(page.getByRole('button', { name: 'Make walk' }).isEnabled()).resolves.toBe(true)
    const walks = readdirSync(join(dirA, 'exports', 'walks'))
    expect(walks.filter((name) => name.includes('-5-7-frames'))).toEqual([])

    // Back to the short walk's settings and the first seeds for what follows.
    await page.getByLabel('Format').selectOption('gif')
    await page.getByLabel('Seeds').fill('5-8')
    await generate()
  })

  it('pulls the truncation slider to 0 and generates again: every seed gives the same image', async () => {
    const slider = page.getByRole('slider', { name: 'Truncation ψ' })
    await slider.focus()
    await slider.press('Home')
    await expect(slider.getAttribute('aria-valuetext')).resolves.toBe('0.00')
    await generate()
    await gallery().getByText(`step ${RUN_A.steps} · ψ 0.00`).waitFor()
    const imgs = galleryImages()
    for (let i = 0; i < 4; i++) await expect.poll(() => naturalWidth(imgs.nth(i)), { timeout: 30_000 }).toBe(32)
    const pixels = await pixelsOf(imgs)
    expect(pixels).toHaveLength(4)
    expect(new Set(pixels).size).toBe(1)
    await screenshot(page, 'gen-05-truncation-0')
  })

  it('exports the model and says where it went', async () => {
    await page.getByRole('button', { name: 'Export model' }).click()
    const status = page.getByRole('status').filter({ hasText: 'on the studio machine' })
    await status.waitFor({ timeout: 120_000 })
    const dir = await status.locator('code').first().innerText()
    expect(isAbsolute(dir)).toBe(true)
    expect(dir.startsWith(join(dirA, 'exports'))).toBe(true)
    for (const f of ['model.json', 'index.html']) expect(existsSync(join(dir, f))).toBe(true)
    const link = status.getByRole('link', { name: 'Download the generator page' })
    expect(await link.getAttribute('download')).toBe(`Moths-A-step-${RUN_A.steps}-generator.html`)
    const href = await link.getAttribute('href')
    expect(href).toMatch(/\/files\/runs\/.+\/index\.html\?token=/)
    const res = await fetch(new URL(href!, serve.origin))
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/<html/i)
    await screenshot(page, 'gen-06-exported')
  })

  it('compares the two runs: chart, settings that differ, grids and summary', async () => {
    await page.getByRole('link', { name: 'Compare' }).click()
    await page.getByRole('heading', { name: 'Compare runs', level: 1 }).waitFor()
    await page.getByRole('checkbox', { name: new RegExp(`^${RUN_A.name}`) }).check()
    await page.getByRole('checkbox', { name: new RegExp(`^${RUN_B.name}`) }).check()
    await page.getByRole('button', { name: 'Compare', exact: true }).click()

    const chart = page.getByRole('region', { name: 'Loss comparison chart' })
    await chart.getByRole('img', { name: /^Loss curves of 2 runs\./ }).waitFor({ timeout: 60_000 })

    const diff = page.getByRole('table', { name: 'Settings that differ between the runs' })
    const diffRows = await diff.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim()))
    )
    expect(diffRows.sort()).toEqual([
      ['seed', String(RUN_A.seed), String(RUN_B.seed)],
      ['steps', String(RUN_A.steps), String(RUN_B.steps)]
    ])

    const grids = page.getByRole('region', { name: 'Sample grids' })
    for (const name of [RUN_A.name, RUN_B.name]) {
      const img = grids.getByRole('img', { name: new RegExp(`^${name}: sample grid at step \\d+$`) })
      await expect.poll(() => naturalWidth(img), { timeout: 30_000 }).toBeGreaterThan(0)
    }

    const summary = page.getByRole('table', { name: 'Summary of each run' })
    const rows = await summary.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim()))
    )
    expect(rows.map((r) => [r[0], r[2]])).toEqual([
      [RUN_A.name, String(RUN_A.steps)],
      [RUN_B.name, String(RUN_B.steps)]
    ])
    for (const r of rows) expect(r[5]).toMatch(/\d/) // a final G loss
    await screenshot(page, 'cmp-01-compared')
    await grids.scrollIntoViewIfNeeded()
    await screenshot(page, 'cmp-02-grids')
  })

  it('saves a tag and a note, kept after a reload', async () => {
    await page.getByLabel(`Tags for ${RUN_B.name}`, { exact: true }).fill('longer, seed-2')
    await page.getByLabel(`Note for ${RUN_B.name}`, { exact: true }).fill('Three more steps than A.')
    await page.getByRole('button', { name: `Save tags and note for ${RUN_B.name}` }).click()
    await page.getByText(`Saved the tags and note of ${RUN_B.name}.`).waitFor({ timeout: 30_000 })
    const summary = page.getByRole('table', { name: 'Summary of each run' })
    await summary.getByText('seed-2', { exact: true }).waitFor()
    await screenshot(page, 'cmp-03-tagged')
    // What a person edits is kept in meta.json (the training loop never writes it).
    const json = JSON.parse(await fsp.readFile(join(dirB, 'meta.json'), 'utf8')) as { tags: string[]; note: string }
    expect(json.tags).toEqual(['longer', 'seed-2'])
    expect(json.note).toBe('Three more steps than A.')

    await page.reload()
    await expect.poll(() => page.getByLabel(`Tags for ${RUN_B.name}`, { exact: true }).inputValue(), { timeout: 30_000 }).toBe('longer, seed-2')
    await expect(page.getByLabel(`Note for ${RUN_B.name}`, { exact: true }).inputValue()).resolves.toBe('Three more steps than A.')
  })

  it('logged no page errors', () => {
    expect(problems).toEqual([])
  })
})
