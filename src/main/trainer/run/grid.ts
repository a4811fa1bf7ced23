import sharp from 'sharp'

/**
 * Images in [-1, 1] (NHWC float32) → uint8 RGB, and a grid PNG with thin gaps. Small resolutions
 * are enlarged with nearest-neighbour so a 32 px grid is readable without blurring.
 */
export function toUint8(pixels: Float32Array | Int32Array | Uint8Array): Uint8Array {
  const out = new Uint8Array(pixels.length)
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round((Number(pixels[i]) + 1) * 127.5)
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v
  }
  return out
}

export async function gridPng(
  images: Uint8Array,
  count: number,
  size: number,
  opts: { columns?: number; gap?: number; scale?: number; background?: [number, number, number] } = {}
): Promise<Buffer> {
  const columns = opts.columns ?? Math.ceil(Math.sqrt(count))
  const rows = Math.ceil(count / columns)
  const scale = opts.scale ?? (size <= 32 ? 2 : 1)
  const gap = opts.gap ?? 2
  const cell = size * scale
  const width = columns * cell + (columns + 1) * gap
  const height = rows * cell + (rows + 1) * gap
  const canvas = new Uint8Array(width * height * 3)
  const bg = opts.background ?? [24, 24, 27]
  for (let i = 0; i < width * height; i++) canvas.set(bg, i * 3)
  for (let n = 0; n < count; n++) {
    const ox = gap + (n % columns) * (cell + gap)
    const oy = gap + Math.floor(n / columns) * (cell + gap)
    for (let y = 0; y < cell; y++) {
      const sy = Math.floor(y / scale)
      for (let x = 0; x < cell; x++) {
        const sx = Math.floor(x / scale)
        const src = ((n * size + sy) * size + sx) * 3
        const dst = ((oy + y) * width + ox + x) * 3
        canvas[dst] = images[src]!
        canvas[dst + 1] = images[src + 1]!
        canvas[dst + 2] = images[src + 2]!
      }
    }
  }
  return sharp(canvas, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer()
}

export async function imagePng(image: Uint8Array, size: number): Promise<Buffer> {
  return sharp(image, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer()
}
