import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleFileName } from '../../../src/shared/runs'
import { drawText, textWidth } from '../../../src/main/explore/bitmap-font'
import { drawStrip, gridGeometry, thinEvenly, trainingTimelapse, type TimelapseProgress } from '../../../src/main/explore/timelapse'
import { gridPng } from '../../../src/main/trainer/run/grid'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun
const STEPS = [100, 200, 300, 600, 1200]

/** Cell n of the grid at `step`: a flat colour that encodes both. */
const cellColour = (step: number, n: number): [number, number, number] => [(step / 10) % 256, n * 12, 255 - n * 10]

async function writeGrid(dir: string, step: number): Promise<void> {
  const images = new Uint8Array(16 * 32 * 32 * 3)
  for (let n = 0; n < 16; n++) for (let p = 0; p < 32 * 32; p++) images.set(cellColour(step, n), (n * 32 * 32 + p) * 3)
  await fsp.mkdir(join(dir, 'samples'), { recursive: true })
  await fsp.writeFile(join(dir, sampleFileName(step)), await gridPng(images, 16, 32))
}

async function frame(file: string, page: number): Promise<{ rgb: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file, { page }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { rgb: data, width: info.width, height: info.height }
}

function region(rgb: Uint8Array, width: number, y0: number, y1: number): Uint8Array {
  return rgb.subarray(y0 * width * 3, y1 * width * 3)
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!)
  return s / a.length
}

function pixel(rgb: Uint8Array, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 3
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!]
}

beforeAll(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-timelapse-'))
  run = await makeTinyRun(join(root, 'runs'), { steps: [] })
  // written out of order: the timelapse sorts by step, not by when files appeared
  for (const step of [...STEPS].reverse()) await writeGrid(run.dir, step)
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('bitmap font', () => {
  it('draws a glyph pixel for pixel and measures text', () => {
    const rgb = new Uint8Array(8 * 9 * 3)
    drawText(rgb, 8, 9, '1', 1, 1, 1, [255, 0, 0])
    const lit: string[] = []
    for (let y = 0; y < 9; y++) {
      let row = ''
      for (let x = 0; x < 8; x++) row += rgb[(y * 8 + x) * 3] ? '#' : '.'
      lit.push(row)
    }
    expect(lit).toEqual(['........', '...#....', '..##....', '...#....', '...#....', '...#....', '...#....', '..###...', '........'])
    expect(textWidth('STEP 12', 2)).toBe((7 * 6 - 1) * 2)
  })

  it('different steps give different strips; the bar grows with the step', () => {
    const a = drawStrip(266, 100, 1200)
    const b = drawStrip(266, 1200, 1200)
    expect(a.height).toBe(b.height)
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(false)
    const barRow = a.height - 1
    expect(pixel(a.rgb, 266, 200, barRow)).not.toEqual(pixel(b.rgb, 266, 200, barRow))
    expect(pixel(b.rgb, 266, 265, barRow)).toEqual(pixel(a.rgb, 266, 0, barRow))
  })

  it('thins long histories evenly, keeping first and last', () => {
    expect(thinEvenly(5, 10)).toEqual([0, 1, 2, 3, 4])
    expect(thinEvenly(100, 3)).toEqual([0, 50, 99])
    expect(thinEvenly(1000, 240)).toHaveLength(240)
  })
})

describe('trainingTimelapse', () => {
  it('whole grid as GIF: one frame per grid, steps in order, the step drawn under each', async () => {
    const out = join(root, 'grid.gif')
    const progress: TimelapseProgress[] = []
    const r = await trainingTimelapse(run.dir, { out, fps: 4, holdSeconds: 1, onProgress: (p) => progress.push(p) })
    expect(r.steps).toEqual(STEPS)
    const geo = gridGeometry(16, 32)
    expect(r.width).toBe(geo.width)
    const meta = await sharp(out).metadata()
    expect(meta.format).toBe('gif')
    expect(meta.pages).toBe(STEPS.length)
    expect(meta.loop).toBe(0)
    expect(meta.delay).toEqual([250, 250, 250, 250, 1250])
    expect(progress.at(-1)).toEqual({ phase: 'done', done: 5, total: 5 })
    const strips = STEPS.map((s) => drawStrip(r.width, s, 1200))
    for (let i = 0; i < STEPS.length; i++) {
      const f = await frame(out, i)
      expect(f.height).toBe(geo.height + strips[i]!.height)
      // the image part is the grid of that step (cell 0's colour carries the step)
      const c = pixel(f.rgb, f.width, geo.gap + 5, geo.gap + 5)
      const want = cellColour(STEPS[i]!, 0)
      for (let k = 0; k < 3; k++) expect(Math.abs(c[k]! - want[k]!)).toBeLessThanOrEqual(6)
      // the strip reads this frame's step, not another's
      const strip = region(f.rgb, f.width, geo.height, f.height)
      const own = meanAbsDiff(strip, strips[i]!.rgb)
      expect(own).toBeLessThan(2)
      for (let j = 0; j < STEPS.length; j++) if (j !== i) expect(meanAbsDiff(strip, strips[j]!.rgb)).toBeGreaterThan(own + 1)
    }
  })

  it('one cell as WebP: that cell enlarged, every frame', async () => {
    const out = join(root, 'cell.webp')
    const r = await trainingTimelapse(run.dir, { out, cell: 6, format: 'webp' })
    expect(r.steps).toEqual(STEPS)
    expect(r.width).toBe(128)
    const meta = await sharp(out).metadata()
    expect(meta.format).toBe('webp')
    expect(meta.pages).toBe(5)
    for (let i = 0; i < STEPS.length; i++) {
      const f = await frame(out, i)
      const want = cellColour(STEPS[i]!, 6)
      const c = pixel(f.rgb, f.width, 64, 64)
      for (let k = 0; k < 3; k++) expect(Math.abs(c[k]! - want[k]!)).toBeLessThanOrEqual(8)
    }
  })

  it('thins to the frames asked for and writes under the run by default', async () => {
    const r = await trainingTimelapse(run.dir, { maxFrames: 3 })
    expect(r.steps).toEqual([100, 300, 1200])
    expect(r.out).toBe(join(run.dir, 'exports', 'timelapse', 'timelapse.gif'))
    expect((await sharp(r.out).metadata()).pages).toBe(3)
  })

  it('refuses a cell outside the grid, a run without grids, a grid whose cells cannot be found', async () => {
    await expect(trainingTimelapse(run.dir, { cell: 16 })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/Cell must be 0 to 15/) })
    const bare = await makeTinyRun(join(root, 'runs'), { steps: [] })
    await expect(trainingTimelapse(bare.dir)).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/no sample grids/) })
    const odd = await makeTinyRun(join(root, 'runs'), { steps: [100] }) // its grid holds 4 images, its config says 16
    await expect(trainingTimelapse(odd.dir, { cell: 1 })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/cells cannot be found/) })
    const whole = await trainingTimelapse(odd.dir, { out: join(root, 'odd.gif') })
    expect(whole.steps).toEqual([100])
  })

  it('stops when cancelled and writes nothing', async () => {
    const ctl = new AbortController()
    ctl.abort()
    const out = join(root, 'never.gif')
    await expect(trainingTimelapse(run.dir, { out, signal: ctl.signal })).rejects.toMatchObject({ code: 'cancelled' })
    await expect(fsp.access(out)).rejects.toThrow()
  })
})
