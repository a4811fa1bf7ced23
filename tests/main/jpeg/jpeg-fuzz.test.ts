import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeJpegFast, type FastPreprocess } from '../../../src/main/jpeg/fast-jpeg'
import { MAX_SIDE } from '../../../src/main/jpeg/jpeg-eighth'
import { dcOnlyJpeg, withRestarts } from './jpeg-writers'

/**
 * Differential fuzzing of the import's JPEG fast path against sharp (libjpeg), which decodes
 * whatever the fast path declines: random byte mutations of real JPEGs (baseline and progressive,
 * with and without restart intervals). The fast path must never throw, never hang, and never
 * accept a file that sharp refuses. Seeded, so a failure reproduces.
 */

const pp: FastPreprocess = { resolution: 32, crop: 'center', background: { r: 255, g: 255, b: 255 } }

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
}

/** A photo-like picture (gradients, texture, grain), so every block has AC coefficients. */
async function photo(w: number, h: number, seed: number, options: { progressive?: boolean; grey?: boolean; optimise?: boolean } = {}): Promise<Buffer> {
  const rnd = lcg(seed)
  const raw = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3
      raw[i] = (Math.sin(x / 17 + seed) * 60 + 128 + rnd() * 40) | 0
      raw[i + 1] = (Math.hypot(x - w / 2, y - h / 3) / 3) & 255
      raw[i + 2] = (x ^ y) & 255
    }
  }
  let image = sharp(raw, { raw: { width: w, height: h, channels: 3 } })
  if (options.grey) image = image.greyscale()
  return image.jpeg({ quality: 80, progressive: options.progressive ?? false, optimiseCoding: options.optimise ?? true }).toBuffer()
}

/** What the importer's sharp pipeline says about a file: null when it decodes, else its message. */
async function sharpRefusal(buf: Buffer): Promise<string | null> {
  try {
    await sharp(buf, { failOn: 'truncated', autoOrient: true }).resize(32, 32, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer()
    return null
  } catch (err) {
    return (err as Error).message.split('\n')[0]!
  }
}

function restartMarkers(buf: Uint8Array): number[] {
  const at: number[] = []
  for (let i = 0; i + 1 < buf.length; i++) if (buf[i] === 0xff && buf[i + 1]! >= 0xd0 && buf[i + 1]! <= 0xd7) at.push(i)
  return at
}

/** One to three mutations: a header byte, a restart marker's number, or any byte (random, a flipped bit, 0xff). */
function mutate(base: Buffer, rnd: () => number): Buffer {
  const buf = Buffer.from(base)
  const count = 1 + Math.floor(rnd() * 3)
  for (let m = 0; m < count; m++) {
    const kind = rnd()
    if (kind < 0.15) {
      buf[Math.floor(rnd() * Math.min(buf.length, 700))] = Math.floor(rnd() * 256)
    } else if (kind < 0.3) {
      const markers = restartMarkers(buf)
      if (markers.length > 0) buf[markers[Math.floor(rnd() * markers.length)]! + 1] = 0xd0 + Math.floor(rnd() * 8)
    } else {
      const at = Math.floor(rnd() * buf.length)
      const r = rnd()
      if (r < 0.6) buf[at] = Math.floor(rnd() * 256)
      else if (r < 0.8) buf[at]! ^= 1 << Math.floor(rnd() * 8)
      else buf[at] = 0xff
    }
  }
  return buf
}

describe('JPEG fast path against sharp', () => {
  it('never throws, hangs, or accepts a mutated file that sharp refuses', async () => {
    const level = (bx: number, by: number): number => (bx * 13 + by * 7) & 255
    const corpus: [string, Buffer][] = [
      ['baseline', await photo(400, 320, 1)],
      ['baseline, restart every 5 MCUs', withRestarts(await photo(400, 320, 3, { optimise: false }), 5)],
      ['greyscale, restart every block', withRestarts(await photo(320, 400, 4, { grey: true, optimise: false }), 1)],
      ['progressive', await photo(400, 320, 2, { progressive: true })],
      ['progressive, restart every 4', dcOnlyJpeg(320, 320, [level, level, level], { restartInterval: 4, progressive: { al: 2, interleaved: false } })]
    ]
    const rnd = lcg(20261202)
    const wrong: string[] = []
    let accepted = 0
    for (const [name, base] of corpus) {
      expect(await sharpRefusal(base), name).toBeNull()
      for (let k = 0; k < 80; k++) {
        const file = mutate(base, rnd)
        const started = performance.now()
        const fast = decodeJpegFast(file, pp)
        expect(performance.now() - started, `${name} #${k} took too long`).toBeLessThan(2000)
        if ('declined' in fast) continue
        accepted += 1
        const refusal = await sharpRefusal(file)
        if (refusal) wrong.push(`${name} #${k}: sharp says "${refusal}"`)
      }
    }
    expect(wrong).toEqual([])
    expect(accepted).toBeGreaterThan(50) // the fast path still takes intact-enough baseline files
  }, 60_000)

  it('refuses what libjpeg refuses: a frame over 65500 px, misnumbered restart markers, a restart interval that lies', async () => {
    const base = await photo(400, 320, 9, { optimise: false })
    const withRst = withRestarts(base, 4)
    expect('declined' in decodeJpegFast(withRst, pp)).toBe(false)

    // A 65535 × 65535 frame header: declined at once, before any memory is taken.
    const huge = Buffer.from(withRst)
    const sof = huge.indexOf(Buffer.from([0xff, 0xc0]))
    huge.writeUInt16BE(65535, sof + 5)
    huge.writeUInt16BE(65535, sof + 7)
    const started = performance.now()
    expect(decodeJpegFast(huge, pp)).toMatchObject({ declined: expect.stringMatching(/pixel limit|65500/) })
    expect(performance.now() - started).toBeLessThan(100)
    expect(MAX_SIDE).toBe(65500)
    expect(await sharpRefusal(huge)).not.toBeNull()

    // Two restart markers swapped.
    const swapped = Buffer.from(withRst)
    const [a, b] = restartMarkers(swapped)
    ;[swapped[a! + 1], swapped[b! + 1]] = [swapped[b! + 1]!, swapped[a! + 1]!]
    expect(decodeJpegFast(swapped, pp)).toMatchObject({ declined: expect.stringMatching(/restart/) })

    // DRI says 3 where the data restarts every 4.
    const lying = Buffer.from(withRst)
    lying[lying.indexOf(Buffer.from([0xff, 0xdd])) + 5] = 3
    expect(decodeJpegFast(lying, pp)).toMatchObject({ declined: expect.stringMatching(/restart/) })

    // A file cut after its entropy data, before EOI.
    expect(decodeJpegFast(base.subarray(0, base.length - 2), pp)).toMatchObject({ declined: expect.stringMatching(/ends before/) })
  })
})
