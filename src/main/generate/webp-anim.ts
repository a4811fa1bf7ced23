import sharp from 'sharp'

/**
 * Animated WebP assembled from independently encoded frames (RIFF: VP8X + ANIM + one ANMF per
 * frame). libwebp's own animation encoder merges a frame identical to the one before into a
 * longer-lasting previous frame, so a walk could come out with fewer frames than asked (ψ = 0,
 * a repeated keyframe). Muxing full frames ourselves keeps exactly one frame per frame.
 * Container layout: https://developers.google.com/speed/webp/docs/riff_container
 */

function u24(value: number): Buffer {
  const b = Buffer.alloc(3)
  b.writeUIntLE(value, 0, 3)
  return b
}

function chunk(fourcc: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.write(fourcc, 0, 'latin1')
  head.writeUInt32LE(payload.length, 4)
  return Buffer.concat([head, payload, payload.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)])
}

/** The image-data chunks (ALPH, VP8 , VP8L) of a still WebP file, as stored (with padding). */
export function webpImageChunks(file: Buffer): Buffer {
  if (file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 12) !== 'WEBP') throw new Error('not a WebP file')
  const parts: Buffer[] = []
  let at = 12
  while (at + 8 <= file.length) {
    const fourcc = file.toString('latin1', at, at + 4)
    const size = file.readUInt32LE(at + 4)
    const end = at + 8 + size + (size % 2)
    if (fourcc === 'ALPH' || fourcc === 'VP8 ' || fourcc === 'VP8L') parts.push(file.subarray(at, Math.min(end, file.length)))
    at = end
  }
  if (parts.length === 0) throw new Error('the WebP file holds no image data')
  return Buffer.concat(parts)
}

/** RGB frames (each width×height×3) → an animated WebP that loops forever. */
export async function encodeAnimatedWebp(
  frames: Uint8Array,
  width: number,
  height: number,
  count: number,
  delaysMs: readonly number[],
  opts: { quality?: number; effort?: number } = {}
): Promise<Buffer> {
  const frameBytes = width * height * 3
  const anmf: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const still = await sharp(frames.subarray(i * frameBytes, (i + 1) * frameBytes), { raw: { width, height, channels: 3 } })
      .webp({ quality: opts.quality ?? 90, effort: opts.effort ?? 4, smartSubsample: true })
      .toBuffer()
    const header = Buffer.concat([
      u24(0), // x / 2
      u24(0), // y / 2
      u24(width - 1),
      u24(height - 1),
      u24(Math.min(0xffffff, Math.max(0, Math.round(delaysMs[i] ?? 100)))),
      Buffer.from([0x02]) // do not blend with the previous frame; no disposal
    ])
    anmf.push(chunk('ANMF', Buffer.concat([header, webpImageChunks(still)])))
  }
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), u24(width - 1), u24(height - 1)]) // animation flag
  const anim = Buffer.alloc(6)
  anim.writeUInt32LE(0xffffffff, 0) // background colour (white, opaque)
  anim.writeUInt16LE(0, 4) // loop forever
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), chunk('VP8X', vp8x), chunk('ANIM', anim), ...anmf])
  const riff = Buffer.alloc(8)
  riff.write('RIFF', 0, 'latin1')
  riff.writeUInt32LE(body.length, 4)
  return Buffer.concat([riff, body])
}

/**
 * Per-frame delays whose running sum tracks the ideal timeline (frame i starts at i/fps seconds),
 * rounded to the format's clock (GIF counts hundredths of a second), so the loop lasts as long as
 * asked instead of drifting by the rounding of every frame.
 */
export function frameDelays(frames: number, fps: number, tickMs: number): number[] {
  const at = (i: number): number => Math.round((i * 1000) / fps / tickMs) * tickMs
  return Array.from({ length: frames }, (_, i) => Math.max(tickMs, at(i + 1) - at(i)))
}
