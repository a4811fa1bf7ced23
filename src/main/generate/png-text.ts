import { crc32 } from 'node:zlib'

/**
 * PNG text metadata: `tEXt` chunks (Latin-1) and, for values outside Latin-1, uncompressed `iTXt`
 * chunks (UTF-8). Written right after IHDR so any reader finds them before the image data.
 * A PNG is a signature then chunks of: length (u32 BE), type (4 ASCII), data, CRC-32 of type+data.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function isLatin1(text: string): boolean {
  // Latin-1 printable text plus newline, as the PNG spec allows in tEXt.
  return /^[\n\x20-\x7e\xa1-\xff]*$/.test(text)
}

function checkKeyword(key: string): void {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(key) || key.startsWith(' ') || key.endsWith(' ') || key.includes('  '))
    throw new Error(`"${key}" is not a valid PNG text keyword`)
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}

function textChunk(key: string, value: string): Buffer {
  checkKeyword(key)
  if (isLatin1(value)) return chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]))
  // iTXt: keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translated keyword, NUL, UTF-8 text.
  return chunk('iTXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')]))
}

/** Returns a copy of `png` with the given text entries inserted after its IHDR chunk. */
export function withPngText(png: Uint8Array, entries: Record<string, string>): Buffer {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength)
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIGNATURE) || buf.toString('latin1', 12, 16) !== 'IHDR')
    throw new Error('not a PNG file')
  const ihdrEnd = 8 + 12 + buf.readUInt32BE(8)
  const chunks = Object.entries(entries).map(([k, v]) => textChunk(k, v))
  return Buffer.concat([buf.subarray(0, ihdrEnd), ...chunks, buf.subarray(ihdrEnd)])
}

/** Every tEXt and uncompressed iTXt entry in a PNG, by keyword (later duplicates win). */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength)
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file')
  const out: Record<string, string> = {}
  let at = 8
  while (at + 12 <= buf.length) {
    const length = buf.readUInt32BE(at)
    const type = buf.toString('latin1', at + 4, at + 8)
    const data = buf.subarray(at + 8, at + 8 + length)
    if (type === 'tEXt') {
      const nul = data.indexOf(0)
      if (nul > 0) out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1)
    } else if (type === 'iTXt') {
      const nul = data.indexOf(0)
      if (nul > 0 && data[nul + 1] === 0) {
        const lang = data.indexOf(0, nul + 3)
        const translated = lang >= 0 ? data.indexOf(0, lang + 1) : -1
        if (translated >= 0) out[data.toString('latin1', 0, nul)] = data.toString('utf8', translated + 1)
      }
    } else if (type === 'IEND') break
    at += 12 + length
  }
  return out
}
