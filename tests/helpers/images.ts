/**
 * Test image folders, generated with sharp: every format the importer reads, odd sizes,
 * transparency, palettes, and files that must be skipped. Deterministic from a seed, and every
 * generated image has different pixels (so none is an accidental duplicate).
 *
 *   const folder = await makeImageFolder(dir, { count: 12, formats: ['png', 'jpeg', 'gif'], withAlpha: true, broken: 3 })
 *   folder.images   // what a correct import keeps (before de-duplication), with sizes and flags
 *   folder.broken   // files a correct import skips, with why
 */
import { promises as fsp } from 'node:fs'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { uniformFrom } from '../../src/main/trainer/model/rng'

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif' | 'svg'
/** Files an import must skip: 0 bytes, cut in half, not an image, 4×4 px, or a format we don't read (BMP). */
export type BrokenKind = 'empty' | 'truncated' | 'garbage' | 'tiny' | 'unsupported'
export const BROKEN_KINDS: readonly BrokenKind[] = ['empty', 'truncated', 'garbage', 'tiny', 'unsupported']

export const EXTENSION: Record<ImageFormat, string> = {
  png: 'png', jpeg: 'jpg', webp: 'webp', gif: 'gif', tiff: 'tiff', avif: 'avif', svg: 'svg'
}
const ALPHA_CAPABLE: ReadonlySet<ImageFormat> = new Set(['png', 'webp', 'gif', 'tiff', 'avif', 'svg'])

export interface ImageFolderOptions {
  /** Number of good images (default 12). */
  count?: number
  /** [width, height] pairs, used in turn (default: a mix of odd sizes and aspect ratios). */
  sizes?: ReadonlyArray<readonly [number, number]>
  /** Formats, used in turn (default png and jpeg). */
  formats?: readonly ImageFormat[]
  /** Give alpha-capable images transparent corners: true for all of them, or a fraction 0–1. */
  withAlpha?: boolean | number
  /** Write PNGs as 8-bit palette (indexed) PNGs. GIFs are always palette images. */
  palette?: boolean
  /** Files that must be skipped: a count (kinds used in turn) or the exact kinds. */
  broken?: number | readonly BrokenKind[]
  /** Exact byte-for-byte copies of earlier images, under other names. */
  duplicates?: number
  /** Put every third image in `sub/` and every third in `sub/deeper/`. */
  nested?: boolean
  /** Also write hidden files and a hidden folder (with real images) that must be ignored. */
  hidden?: boolean
  seed?: number
}

export interface GeneratedImage {
  /** Absolute path. */
  path: string
  /** Relative to the folder, `/` separators. */
  rel: string
  format: ImageFormat
  width: number
  height: number
  /** Decodes with an alpha channel: the transparent-corner images, and every GIF and SVG. */
  hasAlpha: boolean
  palette: boolean
  /** The opaque colour the image is mostly filled with, for assertions on pixels. */
  colour: readonly [number, number, number]
}

export interface ImageFolder {
  dir: string
  images: GeneratedImage[]
  broken: { rel: string; kind: BrokenKind }[]
  duplicates: { rel: string; sameAs: string }[]
  /** Hidden paths written (all must be ignored). */
  hidden: string[]
}

const DEFAULT_SIZES: ReadonlyArray<readonly [number, number]> = [
  [64, 48], [37, 91], [120, 120], [203, 77], [48, 64], [9, 33]
]

export async function makeImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
  const count = options.count ?? 12
  const sizes = options.sizes ?? DEFAULT_SIZES
  const formats = options.formats ?? ['png', 'jpeg']
  const rng = uniformFrom(options.seed ?? 1)
  const alphaEvery = options.withAlpha === true ? 1 : typeof options.withAlpha === 'number' && options.withAlpha > 0 ? 1 / options.withAlpha : Infinity
  await fsp.mkdir(dir, { recursive: true })

  const images: GeneratedImage[] = []
  for (let i = 0; i < count; i++) {
    const format = formats[i % formats.length]!
    const [width, height] = sizes[i % sizes.length]!
    const hasAlpha = ALPHA_CAPABLE.has(format) && Number.isFinite(alphaEvery) && i % Math.round(alphaEvery) === 0
    const sub = options.nested ? (i % 3 === 1 ? 'sub/' : i % 3 === 2 ? 'sub/deeper/' : '') : ''
    const rel = `${sub}img-${String(i).padStart(3, '0')}.${EXTENSION[format]}`
    // Distinct, saturated colours: a hue walk with a seeded offset.
    const colour = hsv(((i * 0.618034 + rng()) % 1) * 360, 0.75, 0.55 + 0.4 * rng())
    const path = join(dir, rel)
    const palette = format === 'gif' || (format === 'png' && options.palette === true)
    await writeImage(path, { width, height, format, colour, alpha: hasAlpha, palette, seed: i + 1 })
    // GIF and SVG always decode with an alpha channel, transparent pixels or not.
    images.push({ path, rel, format, width, height, hasAlpha: hasAlpha || format === 'gif' || format === 'svg', palette, colour })
  }

  const duplicates: ImageFolder['duplicates'] = []
  for (let d = 0; d < (options.duplicates ?? 0) && images.length > 0; d++) {
    const original = images[d % images.length]!
    const rel = `copy-${String(d).padStart(2, '0')}-of-${original.rel.split('/').pop()}`
    await fsp.copyFile(original.path, join(dir, rel))
    duplicates.push({ rel, sameAs: original.rel })
  }

  const kinds: readonly BrokenKind[] =
    typeof options.broken === 'number' ? Array.from({ length: options.broken }, (_, i) => BROKEN_KINDS[i % BROKEN_KINDS.length]!) : (options.broken ?? [])
  const broken: ImageFolder['broken'] = []
  for (const [i, kind] of kinds.entries()) {
    const rel = await writeBroken(dir, kind, i)
    broken.push({ rel, kind })
  }

  const hidden: string[] = []
  if (options.hidden) {
    await writeImage(join(dir, '.hidden.png'), { width: 32, height: 32, format: 'png', colour: [1, 2, 3], seed: 99 })
    await writeImage(join(dir, '.thumbnails', 'thumb.png'), { width: 32, height: 32, format: 'png', colour: [4, 5, 6], seed: 98 })
    await fsp.writeFile(join(dir, 'notes.txt'), 'not an image, ignored without comment\n')
    hidden.push('.hidden.png', '.thumbnails/thumb.png')
  }
  return { dir, images, broken, duplicates, hidden }
}

export interface ImageSpec {
  width: number
  height: number
  format: ImageFormat
  /** Main fill colour (RGB 0–255). */
  colour: readonly [number, number, number]
  /** Transparent outside a centred ellipse (the ellipse stays `colour`). */
  alpha?: boolean
  palette?: boolean
  /** Varies the pattern so images of the same colour still differ. */
  seed?: number
}

/**
 * Writes one image: mostly `colour`, with a darker diagonal stripe and a lighter block (so it has
 * structure and survives JPEG). The corners are plain `colour`, or transparent when `alpha`.
 */
export async function writeImage(path: string, spec: ImageSpec): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true })
  if (spec.format === 'svg') {
    await fsp.writeFile(path, svgImage(spec))
    return
  }
  const channels = spec.alpha ? 4 : 3
  const raw = paint(spec, channels)
  const img = sharp(raw, { raw: { width: spec.width, height: spec.height, channels } })
  switch (spec.format) {
    case 'png':
      await img.png(spec.palette ? { palette: true, colours: 64, dither: 0 } : {}).toFile(path)
      return
    case 'jpeg':
      await img.jpeg({ quality: 92 }).toFile(path)
      return
    case 'webp':
      await img.webp({ quality: 92, alphaQuality: 100 }).toFile(path)
      return
    case 'gif':
      await img.gif({ colours: 64, dither: 0 }).toFile(path)
      return
    case 'tiff':
      await img.tiff({ compression: 'lzw' }).toFile(path)
      return
    case 'avif':
      await img.avif({ quality: 80, effort: 0 }).toFile(path)
      return
  }
}

/** Raw pixels as `writeImage` draws them (before encoding). */
export function paint(spec: Omit<ImageSpec, 'format'>, channels: 3 | 4): Buffer {
  const { width: w, height: h, colour } = spec
  const out = Buffer.alloc(w * h * channels)
  const seed = spec.seed ?? 1
  // A diagonal stripe that never touches the corners: |u - v - offset| < 0.08 with |offset| >= 0.1.
  const offset = (0.1 + ((seed * 0.37) % 0.2)) * (seed % 2 ? 1 : -1)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w
      const v = y / h
      let [r, g, b] = colour
      if (Math.abs(u - v - offset) < 0.08) [r, g, b] = [r * 0.4, g * 0.4, b * 0.4]
      if (u > 0.55 && u < 0.8 && v > 0.15 && v < 0.4) [r, g, b] = [255 - (255 - r) * 0.3, 255 - (255 - g) * 0.3, 255 - (255 - b) * 0.3]
      const i = (y * w + x) * channels
      out[i] = Math.round(r)
      out[i + 1] = Math.round(g)
      out[i + 2] = Math.round(b)
      if (channels === 4) {
        const inside = ((u - 0.5) / 0.5) ** 2 + ((v - 0.5) / 0.5) ** 2 <= 1
        out[i + 3] = spec.alpha && !inside ? 0 : 255
      }
    }
  }
  return out
}

function svgImage(spec: ImageSpec): string {
  const [r, g, b] = spec.colour
  const fill = `rgb(${r},${g},${b})`
  const { width: w, height: h } = spec
  const shape = spec.alpha
    ? `<ellipse cx="${w / 2}" cy="${h / 2}" rx="${w / 2}" ry="${h / 2}" fill="${fill}"/>`
    : `<rect width="${w}" height="${h}" fill="${fill}"/>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${shape}` +
    `<rect x="${w * 0.55}" y="${h * 0.15}" width="${w * 0.25}" height="${h * 0.25}" fill="white" fill-opacity="0.7"/></svg>\n`
}

async function writeBroken(dir: string, kind: BrokenKind, i: number): Promise<string> {
  switch (kind) {
    case 'empty': {
      const rel = `broken-${i}-empty.png`
      await fsp.writeFile(join(dir, rel), '')
      return rel
    }
    case 'truncated': {
      const rel = `broken-${i}-truncated.jpg`
      const whole = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
        .jpeg({ quality: 90 })
        .toBuffer()
      await fsp.writeFile(join(dir, rel), whole.subarray(0, Math.floor(whole.length / 2)))
      return rel
    }
    case 'garbage': {
      const rel = `broken-${i}-garbage.jpg`
      await fsp.writeFile(join(dir, rel), 'this is a text file with an image extension\n'.repeat(20))
      return rel
    }
    case 'tiny': {
      const rel = `broken-${i}-tiny.png`
      await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(join(dir, rel))
      return rel
    }
    case 'unsupported': {
      const rel = `broken-${i}-old.bmp`
      await fsp.writeFile(join(dir, rel), Buffer.concat([Buffer.from('BM'), Buffer.alloc(64)]))
      return rel
    }
  }
}

/** An animated GIF whose frames are solid `colours` in order (each `width × height`). */
export async function writeAnimatedGif(path: string, width: number, height: number, colours: ReadonlyArray<readonly [number, number, number]>): Promise<void> {
  const frames = Buffer.alloc(width * height * colours.length * 4)
  colours.forEach((c, f) => {
    for (let p = 0; p < width * height; p++) frames.set([c[0], c[1], c[2], 255], (f * width * height + p) * 4)
  })
  await fsp.mkdir(dirname(path), { recursive: true })
  await sharp(frames, { raw: { width, height: height * colours.length, channels: 4, pageHeight: height } })
    .gif({ delay: colours.map(() => 100), loop: 0 })
    .toFile(path)
}

/** Mean RGB of a rectangle of an NHWC uint8 image inside a batch. */
export function meanRgb(pixels: Uint8Array, res: number, image: number, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
  let r = 0
  let g = 0
  let b = 0
  let n = 0
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const i = ((image * res + y) * res + x) * 3
      r += pixels[i]!
      g += pixels[i + 1]!
      b += pixels[i + 2]!
      n++
    }
  return [r / n, g / n, b / n]
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const c = v * s
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1))
  const m = v - c
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x]
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)]
}

