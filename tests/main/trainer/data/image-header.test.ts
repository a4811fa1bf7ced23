import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { orientedSize, readImageHeader } from '../../../../src/main/trainer/data/image-header'

/** What sharp says about the same bytes, in the header's terms. */
async function sharpView(buf: Buffer) {
  const m = await sharp(buf).metadata()
  return { width: m.width, height: m.height, orientation: m.orientation ?? 1, channels: m.channels, hasAlpha: m.hasAlpha }
}
function ours(buf: Buffer) {
  const h = readImageHeader(buf)
  expect(h, 'header parsed').not.toBeNull()
  return { width: h!.width, height: h!.height, orientation: h!.orientation, channels: h!.channels, hasAlpha: h!.hasAlpha }
}
const base = (w: number, h: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width: w, height: h, channels, background: { r: 200, g: 100, b: 50, alpha: channels === 4 ? 0.5 : 1 } } })

describe('readImageHeader agrees with sharp.metadata', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('JPEG with EXIF orientation %i', async (orientation) => {
    const buf = await base(37, 21).jpeg().withMetadata({ orientation }).toBuffer()
    expect(ours(buf)).toEqual(await sharpView(buf))
    expect(orientedSize(readImageHeader(buf)!)).toEqual(orientation >= 5 ? { width: 21, height: 37 } : { width: 37, height: 21 })
  })

  it('JPEG: baseline, progressive, greyscale, CMYK, no EXIF', async () => {
    const cases = [
      await base(640, 480).jpeg().toBuffer(),
      await base(33, 65).jpeg({ progressive: true }).toBuffer(),
      await base(20, 30).toColourspace('b-w').jpeg().toBuffer(),
      await base(20, 30).toColourspace('cmyk').jpeg().toBuffer()
    ]
    for (const buf of cases) {
      expect(ours(buf)).toEqual(await sharpView(buf))
      expect(readImageHeader(buf)!.format).toBe('jpeg')
    }
    expect(ours(cases[2]!).channels).toBe(1)
    expect(ours(cases[3]!).channels).toBe(4)
  })

  it('PNG: RGB, RGBA, grey, grey+alpha, palette, palette with transparency, 16-bit, EXIF orientation', async () => {
    const greyAlpha = Buffer.alloc(10 * 10 * 2, 128)
    const cases = [
      await base(31, 17).png().toBuffer(),
      await base(31, 17, 4).png().toBuffer(),
      await base(31, 17).toColourspace('b-w').png().toBuffer(),
      await sharp(greyAlpha, { raw: { width: 10, height: 10, channels: 2 } }).toColourspace('b-w').png().toBuffer(),
      await base(31, 17).png({ palette: true }).toBuffer(),
      await base(31, 17, 4).png({ palette: true }).toBuffer(),
      await base(31, 17).toColourspace('rgb16').png().toBuffer(),
      await base(31, 17).png().withMetadata({ orientation: 6 }).toBuffer()
    ]
    for (const [i, buf] of cases.entries()) expect(ours(buf), `case ${i}`).toEqual(await sharpView(buf))
    expect(ours(cases[3]!)).toMatchObject({ channels: 2, hasAlpha: true })
    expect(ours(cases[5]!)).toMatchObject({ channels: 4, hasAlpha: true })
  })

  it('returns null for other formats and for damaged headers, so sharp decides', async () => {
    expect(readImageHeader(await base(10, 10).webp().toBuffer())).toBeNull()
    expect(readImageHeader(await base(10, 10).gif().toBuffer())).toBeNull()
    expect(readImageHeader(Buffer.from('hello world, not an image at all'))).toBeNull()
    const jpeg = await base(50, 40).jpeg().toBuffer()
    expect(readImageHeader(jpeg.subarray(0, 10))).toBeNull()
    const broken = Buffer.from(jpeg)
    broken[2] = 0x00
    expect(readImageHeader(broken)).toBeNull()
    const png = await base(50, 40).png().toBuffer()
    expect(readImageHeader(png.subarray(0, 20))).toBeNull()
  })
})
