/**
 * Reads what the importer needs to know before decoding (size, EXIF orientation, channels,
 * alpha) straight from JPEG and PNG headers in memory. sharp's `metadata()` would do the same,
 * but as a whole extra libvips pipeline per file: on a folder of large JPEGs that overhead is a
 * measurable share of the import. Anything unusual returns null and the caller
 * falls back to sharp.
 */
export interface ImageHeader {
  format: 'jpeg' | 'png'
  /** Stored size, before EXIF orientation. */
  width: number
  height: number
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number
  /** Channels as decoded: JPEG 1 (grey), 3 or 4 (CMYK); PNG after palette / tRNS expansion. */
  channels: number
  hasAlpha: boolean
}

export function readImageHeader(buf: Uint8Array): ImageHeader | null {
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return readJpeg(buf)
  if (buf.length >= 33 && PNG_SIGNATURE.every((b, i) => buf[i] === b)) return readPng(buf)
  return null
}

/** Display size after EXIF orientation (5–8 swap the sides). */
export function orientedSize(h: Pick<ImageHeader, 'width' | 'height' | 'orientation'>): { width: number; height: number } {
  return h.orientation >= 5 && h.orientation <= 8 ? { width: h.height, height: h.width } : { width: h.width, height: h.height }
}

const u16be = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!
const u32be = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
}

function readJpeg(buf: Uint8Array): ImageHeader | null {
  let i = 2
  let orientation = 1
  let sof: { width: number; height: number; channels: number } | null = null
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return null
    const marker = buf[i + 1]!
    if (marker === 0xff) {
      i++ // fill byte
      continue
    }
    i += 2
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue // no length
    if (marker === 0xd9) return null
    if (marker === 0xda) break // start of scan: the header is over
    const len = u16be(buf, i)
    if (len < 2 || i + len > buf.length) return null
    if (marker === 0xe1 && len >= 16 && ascii(buf, i + 2, 6) === 'Exif\0\0') {
      orientation = exifOrientation(buf.subarray(i + 8, i + len)) ?? orientation
    } else if (isSof(marker)) {
      if (len < 8) return null
      sof = { height: u16be(buf, i + 3), width: u16be(buf, i + 5), channels: buf[i + 7]! }
    }
    i += len
  }
  if (!sof || sof.width === 0 || sof.height === 0 || ![1, 3, 4].includes(sof.channels)) return null
  return { format: 'jpeg', ...sof, orientation, hasAlpha: false }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

function readPng(buf: Uint8Array): ImageHeader | null {
  if (ascii(buf, 12, 4) !== 'IHDR') return null
  const width = u32be(buf, 16)
  const height = u32be(buf, 20)
  const colourType = buf[25]!
  const base = ({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 } as Record<number, number>)[colourType]
  if (!base || width === 0 || height === 0) return null
  let hasAlpha = colourType === 4 || colourType === 6
  let orientation = 1
  let i = 8
  while (i + 12 <= buf.length) {
    const len = u32be(buf, i)
    const type = ascii(buf, i + 4, 4)
    if (type === 'IDAT' || type === 'IEND') break
    if (i + 12 + len > buf.length) return null
    if (type === 'tRNS') hasAlpha = true
    if (type === 'eXIf') orientation = exifOrientation(buf.subarray(i + 8, i + 8 + len)) ?? orientation
    if (type === 'acTL') return null // animated PNG: leave the details to libvips
    i += 12 + len
  }
  // tRNS adds an alpha channel to grey (1 → 2), RGB and palette (3 → 4); types 4 and 6 have one.
  const channels = hasAlpha && (base === 1 || base === 3) ? base + 1 : base
  return { format: 'png', width, height, orientation, channels, hasAlpha }
}

/** Orientation (tag 0x0112) from a TIFF-structured EXIF block; null when absent or malformed. */
function exifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null
  const order = ascii(tiff, 0, 2)
  if (order !== 'II' && order !== 'MM') return null
  const le = order === 'II'
  const u16 = (i: number): number => (le ? tiff[i]! | (tiff[i + 1]! << 8) : u16be(tiff, i))
  const u32 = (i: number): number => (le ? (tiff[i]! | (tiff[i + 1]! << 8) | (tiff[i + 2]! << 16) | (tiff[i + 3]! << 24)) >>> 0 : u32be(tiff, i))
  if (u16(2) !== 42) return null
  const ifd = u32(4)
  if (ifd + 2 > tiff.length) return null
  const entries = u16(ifd)
  for (let e = 0; e < entries; e++) {
    const at = ifd + 2 + e * 12
    if (at + 12 > tiff.length) return null
    if (u16(at) === 0x0112) {
      const value = u16(at + 8)
      return value >= 1 && value <= 8 ? value : null
    }
  }
  return null
}

function ascii(b: Uint8Array, start: number, length: number): string {
  let s = ''
  for (let i = start; i < start + length && i < b.length; i++) s += String.fromCharCode(b[i]!)
  return s
}
