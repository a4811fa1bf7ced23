import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJpegFast, type FastOptions, type FastPreprocess } from '../../../src/main/jpeg/fast-jpeg'
import { decodeJpegEighth, eighthToRgb } from '../../../src/main/jpeg/jpeg-eighth'
import { decodeImage, resolvePreprocess } from '../../../src/main/trainer/data/decode'
import { FastJpegPool } from '../../../src/main/jpeg/decode-pool'
import { importDataset, loadDatasetPixels } from '../../../src/main/trainer/data/dataset'
import { renderLandscape, valueNoise } from '../../../src/main/trainer/data/procedural'
import { uniformFrom } from '../../../src/main/trainer/model/rng'

/** A photo-like RGB image: a procedural landscape with texture and grain (flat colour would hide errors). */
async function photo(width: number, height: number, seed: number): Promise<Buffer> {
  const rng = uniformFrom(seed)
  const w = Math.round(width / 8)
  const h = Math.round(height / 8)
  const base = renderLandscape(w, h, rng)
  const tex = valueNoise(w, h, rng, 6, 4)
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) base[i * 3 + c] = Math.max(0, Math.min(255, base[i * 3 + c]! + tex[i]! * 40))
  const big = await sharp(base, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer()
  let x = seed
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    big[i] = Math.max(0, Math.min(255, big[i]! + ((x >>> 24) % 21) - 10))
  }
  return big
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length)
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!)
  return sum / a.length
}

const pp = (resolution: number, crop: FastPreprocess['crop']): FastPreprocess => ({ resolution, crop, background: { r: 250, g: 240, b: 10 } })

let dir: string
let landscape: Buffer
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gan-fast-jpeg-'))
  landscape = await photo(1200, 800, 7)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Decodes `jpeg` both ways (fast path, and sharp through the importer's decoder) and returns both. */
async function both(jpeg: Buffer, p: FastPreprocess, name: string, options: FastOptions = {}): Promise<{ fast: Uint8Array; ref: Uint8Array; width: number; height: number }> {
  const file = join(dir, name)
  await writeFile(file, jpeg)
  const fast = decodeJpegFast(jpeg, p, options)
  if ('declined' in fast) throw new Error(`fast path declined: ${fast.declined}`)
  const ref = await decodeImage(file, jpeg.length, resolvePreprocess({ resolution: p.resolution as 64, crop: p.crop, background: '#faf00a' }))
  expect([fast.width, fast.height]).toEqual([ref.width, ref.height])
  return { fast: fast.pixels, ref: ref.pixels, width: fast.width, height: fast.height }
}

describe('JPEG fast path (1/8-scale DCT decode)', () => {
  it.each([
    ['center', 64, '4:2:0'],
    ['pad', 64, '4:2:0'],
    ['stretch', 32, '4:2:0'],
    ['center', 32, '4:4:4']
  ] as const)('matches sharp for %s crop at %i px (%s chroma)', async (crop, res, chroma) => {
    const jpeg = await sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling: chroma }).toBuffer()
    const { fast, ref } = await both(jpeg, pp(res, crop), `l-${crop}-${res}-${chroma.replace(/:/g, '')}.jpg`)
    expect(meanAbsDiff(fast, ref)).toBeLessThan(2.5)
  })

  it.each([
    ['colour 4:2:0', false],
    ['greyscale', true]
  ] as const)('decodes progressive JPEGs (%s) from their DC scans alone, like sharp, when asked to', async (_name, grey) => {
    const image = sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } })
    const jpeg = await (grey ? image.greyscale() : image).jpeg({ quality: 90, progressive: true }).toBuffer()
    const { fast, ref } = await both(jpeg, pp(64, 'center'), `progressive-${grey ? 'grey' : 'colour'}.jpg`, { progressive: true })
    expect(meanAbsDiff(fast, ref)).toBeLessThan(2.5)
    // The importer's default leaves them to sharp: their AC scans are not checked here.
    expect(decodeJpegFast(jpeg, pp(64, 'center'))).toEqual({ declined: 'progressive (its AC scans are not checked here)' })
  })

  it('applies EXIF orientation like sharp (portrait from a rotated landscape)', async () => {
    const jpeg = await sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } }).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer()
    const { fast, ref, width, height } = await both(jpeg, pp(64, 'pad'), 'rotated.jpg')
    expect([width, height]).toEqual([800, 1200])
    expect(meanAbsDiff(fast, ref)).toBeLessThan(2.5)
  })

  it('decodes greyscale JPEGs to equal RGB channels', async () => {
    const jpeg = await sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } }).greyscale().jpeg({ quality: 85 }).toBuffer()
    const { fast, ref } = await both(jpeg, pp(32, 'center'), 'grey.jpg')
    for (let i = 0; i < fast.length; i += 3) expect(fast[i] === fast[i + 1] && fast[i] === fast[i + 2]).toBe(true)
    expect(meanAbsDiff(fast, ref)).toBeLessThan(2.5)
  })

  it('gives one pixel per 8×8 block: the block average', async () => {
    // Flat 8×8 blocks of known colours decode to exactly those values (within JPEG rounding).
    const w = 64
    const h = 48
    const raw = Buffer.alloc(w * h * 3)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.fill((((x >> 3) * 31 + (y >> 3) * 17) % 200) + 20, (y * w + x) * 3, (y * w + x) * 3 + 3)
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer()
    const small = decodeJpegEighth(jpeg)
    if ('declined' in small) throw new Error(small.declined)
    expect([small.width, small.height]).toEqual([8, 6])
    const rgb = eighthToRgb(small)
    for (let by = 0; by < 6; by++) {
      for (let bx = 0; bx < 8; bx++) {
        const expected = ((bx * 31 + by * 17) % 200) + 20
        for (let c = 0; c < 3; c++) expect(Math.abs(rgb[(by * 8 + bx) * 3 + c]! - expected)).toBeLessThanOrEqual(2)
      }
    }
  })

  it('declines what it does not handle, with a reason, so that sharp decodes it', async () => {
    const rgb = sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } })
    const p3 = await rgb.clone().withIccProfile('p3').jpeg().toBuffer()
    const baseline = await rgb.clone().jpeg().toBuffer()
    const png = await rgb.clone().png().toBuffer()
    const small = await sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } }).resize(300, 200).jpeg().toBuffer()
    expect(decodeJpegFast(p3, pp(64, 'center'))).toEqual({ declined: 'colour profile other than sRGB' })
    expect(decodeJpegFast(png, pp(64, 'center'))).toEqual({ declined: 'not a JPEG' })
    expect(decodeJpegFast(small, pp(64, 'center'))).toEqual({ declined: 'too small for a 1/8 decode' })
    const truncated = baseline.subarray(0, Math.floor(baseline.length * 0.6))
    expect(decodeJpegFast(truncated, pp(64, 'center'))).toEqual({ declined: expect.stringMatching(/truncated|ends before/) })
    // A progressive file cut anywhere (before its last scan ends) is declined too.
    const progressive = await rgb.clone().jpeg({ progressive: true }).toBuffer()
    for (const keep of [0.05, 0.3, 0.7, 0.99]) {
      expect(decodeJpegFast(progressive.subarray(0, Math.floor(progressive.length * keep)), pp(64, 'center'), { progressive: true })).toEqual({
        declined: expect.stringMatching(/damaged|truncated|ends before/)
      })
    }
    // Garbage in the entropy-coded data never throws: it decodes to something or declines.
    const garbled = Buffer.from(baseline)
    for (let i = Math.floor(garbled.length / 2); i < garbled.length - 2; i += 97) garbled[i] = (garbled[i]! * 7 + 13) & 0xff
    expect(() => decodeJpegFast(garbled, pp(64, 'center'))).not.toThrow()
  })

  it('runs on worker threads in the importer, with sharp for the rest', async () => {
    const pool = FastJpegPool.create(2)
    // The pool's worker is a build output; `npm test` builds first.
    expect(pool, 'out/main/decode-worker.js is missing: run `npm run build` before the tests').not.toBeNull()
    await pool!.close()
    const src = join(dir, 'import-src')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(src, { recursive: true })
    const raw = sharp(landscape, { raw: { width: 1200, height: 800, channels: 3 } })
    await writeFile(join(src, 'a-baseline.jpg'), await raw.clone().jpeg({ quality: 90 }).toBuffer())
    await writeFile(join(src, 'b-progressive.jpg'), await raw.clone().jpeg({ progressive: true }).toBuffer())
    await writeFile(join(src, 'c-cut.jpg'), (await raw.clone().jpeg().toBuffer()).subarray(0, 20_000))
    await writeFile(join(src, 'd-photo.png'), await raw.clone().resize(600, 400).png().toBuffer())
    const ds = await importDataset({ source: src, preprocess: { resolution: 32, crop: 'center', background: '#ffffff' }, datasetsDir: join(dir, 'datasets') })
    expect(ds.count).toBe(3)
    expect(ds.skipped.map((s) => s.file)).toEqual(['c-cut.jpg'])
    expect(ds.skipped[0]!.reason).toMatch(/truncated|damaged/)
    // The baseline file (fast path) and the progressive one (sharp) hold the same picture.
    const cache = await loadDatasetPixels(ds, join(dir, 'datasets'))
    const size = 32 * 32 * 3
    expect(meanAbsDiff(cache.subarray(0, size), cache.subarray(size, 2 * size))).toBeLessThan(3)
  })
})
