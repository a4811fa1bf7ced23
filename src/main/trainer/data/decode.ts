import { constants as fsConstants, promises as fsp } from 'node:fs'
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp'
import { RESOLUTIONS, CROP_MODES, type CropMode, type Preprocess, type Resolution } from '@shared/config'
import { StudioError } from '@shared/errors'
import { parseCssColour, type Rgb } from './colour'
import { readImageHeader, orientedSize } from './image-header'
import { describeFsError } from './scan'

/** Images smaller than this on either side are skipped: there is nothing in them to learn from. */
export const MIN_SIDE = 8

/** Preprocessing with the background parsed: what the decoder actually uses. */
export interface ResolvedPreprocess {
  resolution: Resolution
  crop: CropMode
  background: Rgb
}

/** Validates preprocessing options from any caller; a bad value is a `bad-input` StudioError. */
export function resolvePreprocess(preprocess: Preprocess): ResolvedPreprocess {
  const { resolution, crop, background } = preprocess ?? ({} as Partial<Preprocess>)
  if (!(RESOLUTIONS as readonly number[]).includes(resolution))
    throw new StudioError('bad-input', `Resolution ${String(resolution)} is not supported; use 32, 64, 128 or 256.`)
  if (!(CROP_MODES as readonly string[]).includes(crop))
    throw new StudioError('bad-input', `Crop mode "${String(crop)}" is not supported; use center, pad or stretch.`)
  return { resolution, crop, background: parseCssColour(background ?? '#ffffff') }
}

export interface DecodedImage {
  /** resolution × resolution × 3 bytes, RGB, row-major. */
  pixels: Buffer
  /** Source size after EXIF orientation. */
  width: number
  height: number
  hasAlpha: boolean
}

/** A file that cannot be used, with a reason a person can act on. Never fatal to an import. */
export class SkipFile extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'SkipFile'
  }
}

const FIT = { center: 'cover', pad: 'contain', stretch: 'fill' } as const

/**
 * Reusable read buffer, one per file in flight. Decoding from memory spares libvips re-opening
 * the file and reading it in 4 KiB pieces; reusing the buffer spares V8 a fresh megabyte (and
 * the garbage collection that follows) per image.
 */
export interface Scratch {
  buf: Buffer
}

export function newScratch(): Scratch {
  return { buf: Buffer.allocUnsafeSlow(1 << 20) }
}

/** Files larger than this are decoded from the path instead (huge TIFFs, poster-sized PNGs). */
const MAX_IN_MEMORY_BYTES = 64 << 20

/**
 * Opens a file for reading without blocking on a FIFO or device (a file swapped for one after the
 * scan): anything but a plain file is refused.
 */
async function openPlainFile(file: string): Promise<fsp.FileHandle> {
  const handle = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0))
  const st = await handle.stat().catch(async (err: unknown) => {
    await handle.close()
    throw err
  })
  if (!st.isFile()) {
    await handle.close()
    throw new SkipFile('not a plain file (a pipe, device or folder)')
  }
  return handle
}

/** Reads a whole file into `scratch` (grown as needed) and returns the filled part. */
async function readInto(file: string, scratch: Scratch, expected: number): Promise<Buffer> {
  const handle = await openPlainFile(file)
  try {
    const size = Math.max(expected, (await handle.stat()).size)
    if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafeSlow(Math.max(size, scratch.buf.length * 2))
    let filled = 0
    while (filled < size) {
      const { bytesRead } = await handle.read(scratch.buf, filled, size - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return scratch.buf.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

const HEAD_BYTES = 64 << 10

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await openPlainFile(file)
  try {
    const buf = Buffer.allocUnsafe(bytes)
    const { bytesRead } = await handle.read(buf, 0, bytes, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

interface Probe {
  /** Size after EXIF orientation. */
  width: number
  height: number
  channels: number
  hasAlpha: boolean
  format: string
}

/**
 * Decodes one image file to `resolution²` RGB pixels: first frame or page only, EXIF orientation
 * applied, transparency flattened onto the background, greyscale / palette / CMYK / 16-bit made
 * 8-bit sRGB, then cropped as asked. JPEG and WebP are decoded at a reduced scale where the target
 * is much smaller (libjpeg's shrink-on-load), which is most of the speed.
 * Throws `SkipFile` for anything unusable.
 */
export async function decodeImage(file: string, byteSize: number, pp: ResolvedPreprocess, scratch?: Scratch): Promise<DecodedImage> {
  if (byteSize === 0) throw new SkipFile('empty file (0 bytes)')
  // With a scratch buffer the file is read once into memory and decoded from there; without one
  // (previews) only the first 64 KiB are read, for the header. JPEG and PNG headers are parsed in
  // JS; other formats ask sharp.
  const inMemory = scratch !== undefined && byteSize <= MAX_IN_MEMORY_BYTES
  let input: string | Buffer = file
  let probe: Probe
  try {
    let head: Buffer
    try {
      head = inMemory ? await readInto(file, scratch, byteSize) : await readHead(file, Math.max(64, Math.min(HEAD_BYTES, byteSize)))
    } catch (err) {
      if (err instanceof SkipFile) throw err
      throw new SkipFile(`could not be read (${describeFsError(err)})`)
    }
    if (head.length === 0) throw new SkipFile('empty file (0 bytes)')
    if (inMemory) input = head
    const header = readImageHeader(head)
    if (header) probe = { ...orientedSize(header), channels: header.channels, hasAlpha: header.hasAlpha, format: header.format }
    else {
      const from = input
      probe = await withOwnError(() => probeImage(from))
    }
  } catch (err) {
    if (err instanceof SkipFile) throw err
    throw new SkipFile(await explainFailure(input, err))
  }
  return decodeProbed(input, probe, pp)
}

/**
 * Decodes image bytes already in memory (a file dropped on the studio, say) exactly as decodeImage
 * decodes a file: the same probing, flattening, colour handling and crop. Throws `SkipFile`.
 */
export async function decodeImageBytes(bytes: Buffer, pp: ResolvedPreprocess): Promise<DecodedImage> {
  if (bytes.length === 0) throw new SkipFile('empty file (0 bytes)')
  let probe: Probe
  try {
    const header = readImageHeader(bytes)
    probe = header ? { ...orientedSize(header), channels: header.channels, hasAlpha: header.hasAlpha, format: header.format } : await withOwnError(() => probeImage(bytes))
  } catch (err) {
    if (err instanceof SkipFile) throw err
    throw new SkipFile(await explainFailure(bytes, err))
  }
  return decodeProbed(bytes, probe, pp)
}

/** The part of a decode after the header is known: size checks, then the sharp pipeline. */
async function decodeProbed(input: string | Buffer, probe: Probe, pp: ResolvedPreprocess): Promise<DecodedImage> {
  const res = pp.resolution
  const { width, height } = probe
  if (!width || !height) throw new SkipFile('has no image size in its header (damaged file?)')
  const isVector = probe.format === 'svg'
  if (!isVector && (width < MIN_SIDE || height < MIN_SIDE))
    throw new SkipFile(`too small (${width}×${height} px; at least ${MIN_SIDE} px on each side is needed)`)

  const options: SharpOptions = { failOn: 'truncated', autoOrient: true }
  // Vectors are rasterised at a density that gives at least `res` pixels on the side that matters.
  if (isVector) {
    const side = pp.crop === 'pad' ? Math.max(width, height) : Math.min(width, height)
    if (side < res) options.density = Math.min(72 * 64, (72 * res) / side)
  }
  const bg = { r: pp.background.r, g: pp.background.g, b: pp.background.b }
  const from = input
  const pipeline = (): Promise<{ data: Buffer; info: OutputInfo }> => {
    let img = sharp(from, options)
    // libvips flattens a grey+alpha image onto a grey version of the background; make it sRGB first.
    // (Only then: forcing an sRGB pipeline on ordinary images turns off shrink-on-load.)
    if (probe.hasAlpha && probe.channels <= 2) img = img.pipelineColourspace('srgb')
    if (probe.hasAlpha) img = img.flatten({ background: bg })
    img = img.resize(res, res, { fit: FIT[pp.crop], position: 'centre', background: { ...bg, alpha: 1 } })
    return img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  }
  let out: { data: Buffer; info: OutputInfo }
  try {
    out = await withOwnError(pipeline)
  } catch (err) {
    throw new SkipFile(await explainFailure(input, err))
  }
  const { data, info } = out
  if (info.width !== res || info.height !== res) throw new SkipFile(`decoded to an unexpected size (${info.width}×${info.height})`)
  let pixels = data
  if (info.channels === 1) pixels = greyToRgb(data)
  else if (info.channels !== 3) throw new SkipFile(`decoded to ${info.channels} colour channels instead of 3`)
  return { pixels, width, height, hasAlpha: probe.hasAlpha }
}

/**
 * libvips keeps one error buffer for the whole process, so while several files decode at once a
 * failure can carry another file's message (or lose its own). Decodes therefore share a gate; a
 * decode that fails is run again with the gate to itself, once every other decode has finished
 * and before any new one starts, so the error it throws then is its own. Failures are rare, so
 * this costs an import of good files nothing.
 */
class LibvipsGate {
  private running = 0
  private alone: Promise<void> | null = null
  private readonly idle: (() => void)[] = []

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.alone) await this.alone
    this.running++
    try {
      return await fn()
    } finally {
      if (--this.running === 0) for (const wake of this.idle.splice(0)) wake()
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.alone) await this.alone
    let release!: () => void
    this.alone = new Promise<void>((r) => (release = r))
    try {
      while (this.running > 0) await new Promise<void>((r) => this.idle.push(r))
      return await fn()
    } finally {
      this.alone = null
      release()
    }
  }
}

const gate = new LibvipsGate()

/** Runs a sharp operation; if it fails, runs it again alone so that the error is this file's own. */
async function withOwnError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await gate.shared(fn)
  } catch {
    return gate.exclusive(fn)
  }
}

/** Size, channels and alpha from sharp, for formats whose header isn't read in JS. */
async function probeImage(input: string | Buffer): Promise<Probe> {
  const meta: Metadata = await sharp(input, { failOn: 'truncated' }).metadata()
  return {
    width: meta.autoOrient?.width ?? meta.width,
    height: meta.autoOrient?.height ?? meta.height,
    channels: meta.channels ?? 3,
    hasAlpha: meta.hasAlpha === true,
    format: meta.format
  }
}

let cachePauses = 0
let savedCache: { memory: number; files: number; items: number } | null = null

/**
 * Turns libvips' operation cache off while an import runs (every file is new, so caching only
 * costs bookkeeping and memory) and returns a function that restores the previous limits once
 * the last concurrent import ends.
 */
export function pauseSharpCache(): () => void {
  if (cachePauses++ === 0) {
    const current = sharp.cache()
    savedCache = { memory: current.memory.max, files: current.files.max, items: current.items.max }
    sharp.cache(false)
  }
  let restored = false
  return () => {
    if (restored) return
    restored = true
    if (--cachePauses === 0 && savedCache) {
      sharp.cache(savedCache)
      savedCache = null
    }
  }
}

function greyToRgb(grey: Buffer): Buffer {
  const rgb = Buffer.allocUnsafe(grey.length * 3)
  for (let i = 0; i < grey.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i]!
  return rgb
}

/**
 * The reason for the skipped-files list. The error is the file's own (`withOwnError`); truncation,
 * the most common damage, is also checked from the file itself (JPEG, PNG and GIF files have a
 * fixed trailer), which gives it one plain wording whatever libvips said.
 */
async function explainFailure(input: string | Buffer, err: unknown): Promise<string> {
  const described = describeDecodeError(err)
  if (/^could not be read|^not a readable image|^too large/.test(described)) return described
  if (await endsEarly(input)) return 'damaged or truncated (the file ends before its image data does)'
  return /unknown error/i.test(described) ? 'damaged (its image data could not be decoded)' : described
}

/** True when a JPEG / PNG / GIF (a path, or its bytes) lacks its end marker: the file was cut short. */
export async function endsEarly(input: string | Uint8Array): Promise<boolean> {
  let head: Uint8Array
  let tail: Uint8Array
  if (typeof input === 'string') {
    let handle: fsp.FileHandle | undefined
    try {
      handle = await openPlainFile(input)
      const { size } = await handle.stat()
      if (size < 16) return false
      head = Buffer.alloc(8)
      tail = Buffer.alloc(Math.min(size, 64))
      await handle.read(head, 0, 8, 0)
      await handle.read(tail, 0, tail.length, size - tail.length)
    } catch {
      return false
    } finally {
      await handle?.close()
    }
  } else {
    if (input.length < 16) return false
    head = input.subarray(0, 8)
    tail = input.subarray(Math.max(0, input.length - 64))
  }
  // Trailing padding after the end marker is common (some cameras add zeros): ignore it.
  let end = tail.length
  while (end > 0 && (tail[end - 1] === 0 || tail[end - 1] === 0x0a || tail[end - 1] === 0x0d || tail[end - 1] === 0x20)) end--
  const trimmed = tail.subarray(0, end)
  if (head[0] === 0xff && head[1] === 0xd8) return !(trimmed.at(-2) === 0xff && trimmed.at(-1) === 0xd9)
  if (Buffer.from(head).equals(PNG_SIGNATURE)) return !Buffer.from(tail).includes(IEND)
  if (Buffer.from(head.subarray(0, 3)).toString('latin1') === 'GIF') return trimmed.at(-1) !== 0x3b
  return false
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const IEND = Buffer.from('IEND', 'latin1')

/** Turns a sharp / libvips / fs error into a short reason for the skipped-files list. */
export function describeDecodeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code) return `could not be read (${describeFsError(err)})`
  const message = err instanceof Error ? err.message : String(err)
  // "Input buffer has corrupt header: …" / "Input file …": where libvips read from is no reason.
  const first = message.split('\n')[0]!.trim().replace(/^Input (buffer|file) has corrupt header:\s*/i, '')
  if (/unsupported image format/i.test(first)) return 'not a readable image (the contents are not JPEG, PNG, WebP, GIF, TIFF, AVIF or SVG)'
  if (/input file is missing/i.test(first)) return 'could not be read (it disappeared during the import)'
  if (/exceeds pixel limit/i.test(first)) return 'too large to decode (over 268 megapixels)'
  if (/premature end|truncat|unexpected end|end of (file|stream|data)|short read|read error|not enough data/i.test(first))
    return `damaged or truncated (${first})`
  if (/corrupt|invalid|bad |broken|error/i.test(first)) return `damaged (${first})`
  return `could not be decoded (${first})`
}
