import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Preprocess } from '@shared/config'
import { StudioError } from '@shared/errors'
import { importDataset, loadDatasetPixels } from '../../../../src/main/trainer/data/dataset'
import { makeImageFolder, meanRgb, paint, writeAnimatedGif, writeImage, type ImageFormat } from '../../../helpers/images'

let root: string
let datasetsDir: string
beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-import-'))
  datasetsDir = join(root, 'datasets')
})
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

const pp = (over: Partial<Preprocess> = {}): Preprocess => ({ resolution: 32, crop: 'center', background: '#ffffff', ...over })
type Rgb = readonly [number, number, number]
const near = (actual: readonly number[], expected: Rgb, tolerance: number): void => {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${actual.join(',')} vs ${expected.join(',')}`).toBeLessThanOrEqual(tolerance))
}
/** Pixel (x, y) of image `n` in an NHWC batch. */
const px = (pixels: Uint8Array, res: number, n: number, x: number, y: number): number[] => {
  const i = ((n * res + y) * res + x) * 3
  return [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!]
}
async function rejection(p: Promise<unknown>): Promise<StudioError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err, 'expected a rejection').toBeInstanceOf(StudioError)
  return err as StudioError
}
/** Imports a folder holding one image and returns its pixels. */
async function importOne(dir: string, preprocess: Preprocess): Promise<{ pixels: Uint8Array; res: number }> {
  const ds = await importDataset({ source: dir, preprocess, datasetsDir })
  expect(ds.count).toBe(1)
  return { pixels: await loadDatasetPixels(ds, datasetsDir), res: ds.resolution }
}

describe('importDataset: formats and folders', () => {
  it('reads every supported format in nested folders, in path order, ignoring hidden files', async () => {
    const formats: ImageFormat[] = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'svg']
    const folder = await makeImageFolder(join(root, 'art'), { count: 14, formats, nested: true, hidden: true, withAlpha: 0.5 })
    const ds = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })

    const expected = folder.images.map((i) => i.rel).sort()
    expect(ds.count).toBe(14)
    expect(ds.files).toEqual(expected)
    expect(ds.files.some((f) => f.startsWith('sub/deeper/'))).toBe(true)
    expect(ds.files.some((f) => f.includes('.hidden') || f.includes('.thumbnails'))).toBe(false)
    expect(ds.scanned).toBe(14)
    expect(ds.skipped).toEqual([])
    expect(ds.stats.withAlpha).toBe(folder.images.filter((i) => i.hasAlpha).length)
    expect(ds.stats.minWidth).toBe(Math.min(...folder.images.map((i) => i.width)))
    expect(ds.stats.maxHeight).toBe(Math.max(...folder.images.map((i) => i.height)))

    const stat = await fsp.stat(join(datasetsDir, ds.id, 'cache-32.bin'))
    expect(stat.size).toBe(14 * 32 * 32 * 3)
    const pixels = await loadDatasetPixels(ds, datasetsDir)
    // Each cached image is mostly its source colour (the stripe, block and any flattened corners aside).
    for (const [n, rel] of ds.files.entries()) {
      const image = folder.images.find((i) => i.rel === rel)!
      let close = 0
      for (let p = 0; p < 32 * 32; p++) {
        const d = Math.abs(pixels[p * 3 + n * 3072]! - image.colour[0]) + Math.abs(pixels[p * 3 + 1 + n * 3072]! - image.colour[1]) + Math.abs(pixels[p * 3 + 2 + n * 3072]! - image.colour[2])
        if (d < 45) close++
      }
      expect(close / 1024, `${rel} (${image.format})`).toBeGreaterThan(0.35)
    }
  })

  it('skips unreadable, truncated, empty, tiny and unsupported files with a reason each, and keeps the rest', async () => {
    const folder = await makeImageFolder(join(root, 'mixed'), { count: 3, broken: ['empty', 'truncated', 'garbage', 'tiny', 'unsupported'] })
    const ds = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    expect(ds.count).toBe(3)
    expect(ds.scanned).toBe(8)
    const reason = (kind: string): string => ds.skipped.find((s) => s.file === folder.broken.find((b) => b.kind === kind)!.rel)?.reason ?? '(not skipped)'
    expect(reason('empty')).toMatch(/empty file/)
    expect(reason('truncated')).toMatch(/truncated/)
    expect(reason('garbage')).toMatch(/not a readable image/)
    expect(reason('tiny')).toMatch(/too small \(4×4 px/)
    expect(reason('unsupported')).toMatch(/BMP files are not supported/)
    expect(ds.skipped).toHaveLength(5)
  })

  it('names truncation as the reason even when many damaged files decode at once', async () => {
    // libvips has one error buffer per process: under concurrency a failure can arrive as
    // "Unknown error". The reason must still say what is wrong with each file.
    const folder = await makeImageFolder(join(root, 'cut'), { count: 2, broken: Array.from({ length: 12 }, () => 'truncated' as const) })
    for (const [i, b] of folder.broken.entries()) {
      if (i % 2) continue // half of them as PNGs cut short
      const png = await sharp(paint({ width: 90, height: 70, colour: [i * 10, 80, 200] }, 3), { raw: { width: 90, height: 70, channels: 3 } }).png().toBuffer()
      await fsp.rm(join(folder.dir, b.rel))
      await fsp.writeFile(join(folder.dir, b.rel.replace(/\.jpg$/, '.png')), png.subarray(0, png.length - 40))
    }
    const ds = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    expect(ds.count).toBe(2)
    expect(ds.skipped).toHaveLength(12)
    for (const s of ds.skipped) expect(s.reason, s.file).toMatch(/truncated/)
  })

  it('removes exact duplicates by content, keeping the first in path order', async () => {
    const folder = await makeImageFolder(join(root, 'dups'), { count: 4, duplicates: 2 })
    // Same size in bytes, different pixels: uncompressed TIFFs of equal dimensions. Both stay.
    for (const [name, colour] of [['same-size-a.tiff', [10, 200, 30]], ['same-size-b.tiff', [200, 10, 30]]] as const) {
      await sharp(paint({ width: 20, height: 20, colour }, 3), { raw: { width: 20, height: 20, channels: 3 } })
        .tiff({ compression: 'none' })
        .toFile(join(folder.dir, name))
    }
    const a = await fsp.stat(join(folder.dir, 'same-size-a.tiff'))
    const b = await fsp.stat(join(folder.dir, 'same-size-b.tiff'))
    expect(a.size).toBe(b.size)

    const ds = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    expect(ds.count).toBe(6)
    expect(ds.duplicates).toBe(2)
    // Whichever name sorts first is kept: "copy-00-of-img-000.png" < "img-000.png".
    expect(ds.duplicateFiles).toEqual([
      { file: 'img-000.png', sameAs: 'copy-00-of-img-000.png' },
      { file: 'img-001.jpg', sameAs: 'copy-01-of-img-001.jpg' }
    ])
    expect(folder.duplicates.map((d) => d.sameAs)).toEqual(['img-000.png', 'img-001.jpg'])
    expect(ds.files).toContain('copy-00-of-img-000.png')
    expect(ds.files).not.toContain('img-000.png')
    expect(ds.files).toContain('same-size-a.tiff')
    expect(ds.files).toContain('same-size-b.tiff')
  })

  it('visits a folder reached through a symlink once, and is not caught by a link loop', async () => {
    const dir = join(root, 'linked')
    await makeImageFolder(join(dir, 'real'), { count: 2 })
    await fsp.symlink(join(dir, 'real'), join(dir, 'alias'), 'dir')
    await fsp.symlink(dir, join(dir, 'real', 'loop'), 'dir')
    const ds = await importDataset({ source: dir, preprocess: pp(), datasetsDir })
    // alias/ and real/ are one folder: read once, under the name that sorts first.
    expect(ds.files).toEqual(['alias/img-000.png', 'alias/img-001.jpg'])
    expect(ds.duplicates).toBe(0)
  })
})

describe('importDataset: pixels', () => {
  it('flattens transparency onto the background colour (named, hex, rgb())', async () => {
    const dir = join(root, 'alpha')
    await writeImage(join(dir, 'a.png'), { width: 40, height: 40, format: 'png', colour: [20, 160, 60], alpha: true })
    for (const [background, want] of [['magenta', [255, 0, 255]], ['#123', [0x11, 0x22, 0x33]], ['rgb(0, 128, 255)', [0, 128, 255]]] as const) {
      const { pixels } = await importOne(dir, pp({ background }))
      near(px(pixels, 32, 0, 0, 0), want, 2) // corner: transparent in the source
      near(px(pixels, 32, 0, 31, 31), want, 2)
      near(px(pixels, 32, 0, 8, 16), [20, 160, 60], 3) // inside the opaque ellipse
    }
  })

  it('flattens a greyscale+alpha PNG onto a coloured background (not a grey one)', async () => {
    const dir = join(root, 'grey-alpha')
    const raw = Buffer.alloc(24 * 24 * 2)
    for (let i = 0; i < 24 * 24; i++) {
      raw[i * 2] = 100
      raw[i * 2 + 1] = i % 24 < 12 ? 0 : 255 // left half transparent
    }
    await fsp.mkdir(dir)
    await sharp(raw, { raw: { width: 24, height: 24, channels: 2 } }).toColourspace('b-w').png().toFile(join(dir, 'ga.png'))
    expect((await sharp(join(dir, 'ga.png')).metadata()).channels).toBe(2)
    const { pixels } = await importOne(dir, pp({ background: '#ff0000', crop: 'stretch' }))
    near(px(pixels, 32, 0, 2, 10), [255, 0, 0], 2)
    near(px(pixels, 32, 0, 29, 10), [100, 100, 100], 2)
  })

  it('turns greyscale JPEGs and palette PNGs / GIFs (with transparency) into RGB', async () => {
    const grey = join(root, 'grey')
    await fsp.mkdir(grey)
    await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace('b-w').jpeg().toFile(join(grey, 'g.jpg'))
    expect((await sharp(join(grey, 'g.jpg')).metadata()).channels).toBe(1)
    near(px((await importOne(grey, pp())).pixels, 32, 0, 16, 16), [90, 90, 90], 3)

    for (const format of ['png', 'gif'] as const) {
      const dir = join(root, `palette-${format}`)
      await writeImage(join(dir, `p.${format}`), { width: 50, height: 50, format, colour: [200, 40, 90], alpha: true, palette: true })
      const meta = await sharp(join(dir, `p.${format}`)).metadata()
      expect(meta.isPalette, format).toBe(true)
      const { pixels } = await importOne(dir, pp({ background: '#00ff00' }))
      near(px(pixels, 32, 0, 0, 0), [0, 255, 0], 4)
      near(px(pixels, 32, 0, 8, 16), [200, 40, 90], 6)
    }
  })

  it('uses the first frame of an animated GIF', async () => {
    const dir = join(root, 'anim')
    await writeAnimatedGif(join(dir, 'a.gif'), 20, 20, [[230, 20, 20], [20, 20, 230], [20, 230, 20]])
    expect((await sharp(join(dir, 'a.gif')).metadata()).pages).toBe(3)
    const { pixels } = await importOne(dir, pp())
    near(meanRgb(pixels, 32, 0, 0, 0, 32, 32), [230, 20, 20], 6)
  })

  it('rasterises a small SVG at the target resolution (crisp, not upscaled)', async () => {
    const dir = join(root, 'svg')
    await fsp.mkdir(dir)
    await fsp.writeFile(
      join(dir, 'icon.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="10" fill="#f00"/><rect x="5" width="5" height="10" fill="#00f"/></svg>'
    )
    const { pixels } = await importOne(dir, pp({ resolution: 64 }))
    near(px(pixels, 64, 0, 29, 32), [255, 0, 0], 4)
    near(px(pixels, 64, 0, 34, 32), [0, 0, 255], 4)
  })

  it('honours EXIF orientation', async () => {
    const dir = join(root, 'exif')
    await fsp.mkdir(dir)
    // Stored 40×20: left half red, right half blue; orientation 6 = display rotated 90° clockwise.
    const raw = Buffer.alloc(40 * 20 * 3)
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [230, 0, 0] : [0, 0, 230], (y * 40 + x) * 3)
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(join(dir, 'rot.jpg'))
    expect((await sharp(join(dir, 'rot.jpg')).metadata()).orientation).toBe(6)
    const ds = await importDataset({ source: dir, preprocess: pp({ crop: 'stretch' }), datasetsDir })
    expect([ds.stats.minWidth, ds.stats.minHeight]).toEqual([20, 40])
    const pixels = await loadDatasetPixels(ds, datasetsDir)
    near(meanRgb(pixels, 32, 0, 0, 0, 32, 12), [230, 0, 0], 12) // displayed top = stored left
    near(meanRgb(pixels, 32, 0, 0, 20, 32, 32), [0, 0, 230], 12)
  })

  it('crops: center covers, pad letterboxes with the background, stretch keeps everything', async () => {
    const dir = join(root, 'wide')
    await fsp.mkdir(dir)
    // 96×32: red | green | blue thirds.
    const raw = Buffer.alloc(96 * 32 * 3)
    for (let y = 0; y < 32; y++) for (let x = 0; x < 96; x++) raw.set(x < 32 ? [220, 0, 0] : x < 64 ? [0, 220, 0] : [0, 0, 220], (y * 96 + x) * 3)
    await sharp(raw, { raw: { width: 96, height: 32, channels: 3 } }).png().toFile(join(dir, 'wide.png'))

    const center = (await importOne(dir, pp({ crop: 'center' }))).pixels
    near(meanRgb(center, 32, 0, 2, 0, 30, 32), [0, 220, 0], 3) // only the middle third survives
    near(px(center, 32, 0, 0, 0), [0, 220, 0], 20)

    const pad = (await importOne(dir, pp({ crop: 'pad', background: 'black' }))).pixels
    for (const x of [0, 16, 31]) {
      near(px(pad, 32, 0, x, 0), [0, 0, 0], 0) // letterbox rows
      near(px(pad, 32, 0, x, 31), [0, 0, 0], 0)
    }
    near(px(pad, 32, 0, 3, 16), [220, 0, 0], 15)
    near(px(pad, 32, 0, 16, 16), [0, 220, 0], 15)
    near(px(pad, 32, 0, 28, 16), [0, 0, 220], 15)
    // The letterbox is about a third of the height on each side: 32 × (1 - 1/3) / 2 ≈ 10.7 rows.
    let bgRows = 0
    for (let y = 0; y < 32; y++) if (px(pad, 32, 0, 16, y).every((v) => v === 0)) bgRows++
    expect(bgRows).toBeGreaterThanOrEqual(20)
    expect(bgRows).toBeLessThanOrEqual(22)

    const stretch = (await importOne(dir, pp({ crop: 'stretch' }))).pixels
    near(px(stretch, 32, 0, 3, 0), [220, 0, 0], 15)
    near(px(stretch, 32, 0, 16, 31), [0, 220, 0], 15)
    near(px(stretch, 32, 0, 28, 16), [0, 0, 220], 15)
  })

  it('keeps 16-bit PNGs as 8-bit colour', async () => {
    const dir = join(root, 'deep')
    await fsp.mkdir(dir)
    await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 10, g: 200, b: 30 } } }).toColourspace('rgb16').png().toFile(join(dir, 'd.png'))
    expect((await sharp(join(dir, 'd.png')).metadata()).depth).toBe('ushort')
    near(px((await importOne(dir, pp())).pixels, 32, 0, 5, 5), [10, 200, 30], 2)
  })
})

describe('importDataset: errors a person can read', () => {
  it('a missing folder is not-found with its path', async () => {
    const missing = join(root, 'nope')
    const err = await rejection(importDataset({ source: missing, preprocess: pp(), datasetsDir }))
    expect(err.code).toBe('not-found')
    expect(err.message).toBe(`No folder at ${missing}`)
  })

  it('a file instead of a folder is bad-input', async () => {
    await fsp.writeFile(join(root, 'file.png'), 'x')
    const err = await rejection(importDataset({ source: join(root, 'file.png'), preprocess: pp(), datasetsDir }))
    expect(err.code).toBe('bad-input')
    expect(err.message).toMatch(/is a file, not a folder/)
  })

  it('a folder with nothing usable is no-images, with the reasons', async () => {
    const empty = join(root, 'empty')
    await fsp.mkdir(empty)
    await fsp.writeFile(join(empty, 'readme.txt'), 'hello')
    const none = await rejection(importDataset({ source: empty, preprocess: pp(), datasetsDir }))
    expect(none.code).toBe('no-images')
    expect(none.message).toMatch(new RegExp(`^No usable images in ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no image files found`))

    const bad = await makeImageFolder(join(root, 'bad'), { count: 0, broken: ['empty', 'garbage', 'tiny'] })
    const err = await rejection(importDataset({ source: bad.dir, preprocess: pp(), datasetsDir }))
    expect(err.code).toBe('no-images')
    expect(err.message).toMatch(/^No usable images in .*: 3 files skipped \(broken-0-empty\.png: empty file.*broken-1-garbage\.jpg: not a readable image.*broken-2-tiny\.png: too small/)
    // A failed import leaves no dataset folder behind.
    expect(await fsp.readdir(datasetsDir).catch(() => [])).toEqual([])
  })

  it('an invalid background, resolution or crop is bad-input before anything is written', async () => {
    const folder = await makeImageFolder(join(root, 'ok'), { count: 1 })
    const cases: [Partial<Preprocess>, RegExp][] = [
      [{ background: 'not-a-colour' }, /Background colour "not-a-colour"/],
      [{ background: 'rgba(0,0,0,0.2)' }, /transparent/],
      [{ resolution: 48 as never }, /Resolution 48 is not supported/],
      [{ crop: 'zoom' as never }, /Crop mode "zoom"/]
    ]
    for (const [over, message] of cases) {
      const err = await rejection(importDataset({ source: folder.dir, preprocess: pp(over), datasetsDir }))
      expect(err.code).toBe('bad-input')
      expect(err.message).toMatch(message)
    }
    await expect(fsp.access(datasetsDir)).rejects.toThrow()
  })
})

describe('dataset ids', () => {
  it('are stable per folder and differ per preprocessing', async () => {
    const folder = await makeImageFolder(join(root, 'My Art! (2024)'), { count: 1 })
    const a = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    const b = await importDataset({ source: folder.dir + '/', preprocess: pp(), datasetsDir })
    const c = await importDataset({ source: folder.dir, preprocess: pp({ resolution: 64 }), datasetsDir })
    const d = await importDataset({ source: folder.dir, preprocess: pp({ crop: 'pad', background: 'black' }), datasetsDir })
    expect(a.id).toMatch(/^my-art-2024-[0-9a-f]{8}-32$/)
    expect(b.id).toBe(a.id)
    expect(c.id).toBe(a.id.replace(/-32$/, '-64'))
    expect(d.id).toBe(a.id + '-pad-000000')
    expect(d.background).toBe('#000000')
    expect((await fsp.readdir(datasetsDir)).sort()).toEqual([a.id, c.id, d.id].sort())
  })
})
