/**
 * The importer's fast path for large JPEGs: decode at 1/8 in the DCT domain (`jpeg-eighth.ts`),
 * apply EXIF orientation, crop / pad / stretch and Lanczos-3 resample to the training resolution,
 * the same steps sharp takes with shrink-on-load. Used only where 1/8 of the image still has at
 * least 9/8 of the pixels the output needs (the margin sharp keeps before it shrinks on load), so
 * the result matches sharp's to a level or two; anything else declines and goes through sharp.
 *
 * Needs nothing beyond sibling modules without dependencies (and types): it runs in decode worker threads.
 * The resample runs in WebAssembly SIMD (`jpeg-kernels.ts`).
 */
import { decodeJpegEighth, MAX_PIXELS, MAX_SIDE, ycbcrToRgb, type Declined, type Plane } from './jpeg-eighth'
import { readImageHeader } from '../trainer/data/image-header'
import { JpegKernels } from './jpeg-kernels'
import type { CropMode } from '@shared/config'

export interface FastPreprocess {
  resolution: number
  crop: CropMode
  background: { r: number; g: number; b: number }
}

export interface FastDecoded {
  /** resolution × resolution × 3 bytes, RGB. */
  pixels: Uint8Array
  /** Full source size after EXIF orientation. */
  width: number
  height: number
}

/** How much larger than the output the 1/8 image must be on the sides that matter (sharp's rule: shrink ≥ 9 for 1/8). */
const MARGIN = 9 / 8

export interface FastOptions {
  /**
   * Also take progressive files. Their AC scans are skipped unread, so damage there goes unseen
   * and the result can be an image that sharp (libjpeg) refuses; the importer leaves this off.
   */
  progressive?: boolean
}

/**
 * The fast path, for the files it can vouch for: it accepts only what sharp accepts (every scan's
 * entropy data walked, restart markers numbered and placed as the restart interval says, the frame
 * within libjpeg's size and sharp's pixel limit), and declines the rest with a reason.
 */
export function decodeJpegFast(buf: Uint8Array, pp: FastPreprocess, options: FastOptions = {}): FastDecoded | Declined {
  const header = readImageHeader(buf)
  if (!header || header.format !== 'jpeg') return { declined: 'not a JPEG' }
  if (header.width > MAX_SIDE || header.height > MAX_SIDE || header.width * header.height > MAX_PIXELS) return { declined: 'over the pixel limit' }
  if (header.channels !== 1 && header.channels !== 3) return { declined: `${header.channels} colour components` }
  const swap = header.orientation >= 5
  const ow = swap ? header.height : header.width
  const oh = swap ? header.width : header.height
  const res = pp.resolution
  const need = res * MARGIN
  const w8 = ow / 8
  const h8 = oh / 8
  const fits = pp.crop === 'center' ? Math.min(w8, h8) >= need : pp.crop === 'pad' ? Math.max(w8, h8) >= need : w8 >= need && h8 >= need
  if (!fits) return { declined: 'too small for a 1/8 decode' }
  const small = decodeJpegEighth(buf, { progressive: options.progressive === true })
  if ('declined' in small) return small
  const planes = small.planes.map((p) => orientPlane(p, header.orientation))
  const W = swap ? small.height : small.width
  const H = swap ? small.width : small.height
  // The region of the (oriented) 1/8 image that becomes the output, and the output's size.
  let x0 = 0
  let y0 = 0
  let sw = W
  let sh = H
  let cw = res
  let ch = res
  if (pp.crop === 'center') {
    const side = Math.min(W, H)
    x0 = (W - side) / 2
    y0 = (H - side) / 2
    sw = sh = side
  } else if (pp.crop === 'pad') {
    const scale = Math.min(res / W, res / H)
    cw = Math.max(1, Math.min(res, Math.round(W * scale)))
    ch = Math.max(1, Math.min(res, Math.round(H * scale)))
  }
  // Each plane is resampled from its own grid (chroma at its subsampling), then converted to RGB.
  const out = planes.map((p) => resamplePlane(p.data, p.width, p.height, x0 / p.rx, y0 / p.ry, sw / p.rx, sh / p.ry, cw, ch, p.stride))
  const content = new Uint8Array(cw * ch * 3)
  if (out.length === 1) {
    const y = out[0]!
    for (let j = 0, o = 0; j < cw * ch; j++, o += 3) content[o] = content[o + 1] = content[o + 2] = y[j]!
  } else ycbcrToRgb(out[0]!, cw, out[1]!, out[2]!, cw, ch, content)
  if (pp.crop !== 'pad') return { pixels: content, width: ow, height: oh }
  const pixels = new Uint8Array(res * res * 3)
  const { r, g, b } = pp.background
  for (let i = 0; i < pixels.length; i += 3) {
    pixels[i] = r
    pixels[i + 1] = g
    pixels[i + 2] = b
  }
  const left = Math.floor((res - cw) / 2)
  const top = Math.floor((res - ch) / 2)
  for (let y = 0; y < ch; y++) pixels.set(content.subarray(y * cw * 3, (y + 1) * cw * 3), ((top + y) * res + left) * 3)
  return { pixels, width: ow, height: oh }
}

/** Applies EXIF orientation 1–8 to one plane; the result is tight (stride = width). */
export function orientPlane(p: Plane, orientation: number): Plane {
  if (orientation <= 1 || orientation > 8) return p
  const { data, stride, width: w, height: h } = p
  const swap = orientation >= 5
  const W = swap ? h : w
  const H = swap ? w : h
  const out = new Uint8Array(W * H)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Source sample for output (x, y), per the EXIF definitions of 2–8.
      let sx: number
      let sy: number
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break
        case 3: sx = w - 1 - x; sy = h - 1 - y; break
        case 4: sx = x; sy = h - 1 - y; break
        case 5: sx = y; sy = x; break
        case 6: sx = y; sy = h - 1 - x; break
        case 7: sx = w - 1 - y; sy = h - 1 - x; break
        default: sx = w - 1 - y; sy = x; break // 8
      }
      out[y * W + x] = data[sy * stride + sx]!
    }
  }
  return { data: out, stride: W, width: W, height: H, rx: swap ? p.ry : p.rx, ry: swap ? p.rx : p.ry }
}

/** Lanczos-3 taps of one axis: output i reads samples start[i] … start[i] + taps - 1 (all inside the axis). */
interface Taps {
  start: Int32Array
  /** i16 weights in 1/16384, `taps` per output (zero where a tap is outside the kernel); each output's sum is exactly 16384. */
  weights: Int16Array
  taps: number
}

const tapCache = new Map<string, Taps>()
const ONE = 1 << 14

/**
 * Lanczos-3 taps mapping the source span [offset, offset + span) of an axis `size` long onto
 * `out` samples, `multiple` rounding the tap count up (the SIMD row pass reads 8 at a time).
 */
function taps(size: number, offset: number, span: number, out: number, multiple: number): Taps {
  const key = `${size}:${offset}:${span}:${out}:${multiple}`
  const cached = tapCache.get(key)
  if (cached) return cached
  const scale = out / span
  const stretch = Math.max(1, 1 / scale)
  const support = 3 * stretch
  const count = Math.min(size, Math.ceil(support) * 2 + 1)
  const padded = Math.ceil(count / multiple) * multiple
  const start = new Int32Array(out)
  const weights = new Int16Array(out * padded)
  const lanczos = (x: number): number => {
    if (x === 0) return 1
    if (x <= -3 || x >= 3) return 0
    const px = Math.PI * x
    return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px)
  }
  const real = new Float64Array(count)
  for (let i = 0; i < out; i++) {
    const centre = offset + (i + 0.5) / scale - 0.5
    const lo = Math.max(0, Math.ceil(centre - support))
    const hi = Math.min(size - 1, Math.floor(centre + support))
    // The window slides inside the axis; taps outside [lo, hi] weigh nothing.
    const first = Math.max(0, Math.min(lo, size - count))
    let sum = 0
    for (let t = 0; t < count; t++) {
      const s = first + t
      real[t] = s < lo || s > hi ? 0 : lanczos((s - centre) / stretch)
      sum += real[t]!
    }
    let total = 0
    let biggest = 0
    for (let t = 0; t < count; t++) {
      const w = Math.round((real[t]! / (sum || 1)) * ONE)
      weights[i * padded + t] = w
      total += w
      if (Math.abs(w) > Math.abs(weights[i * padded + biggest]!)) biggest = t
    }
    weights[i * padded + biggest]! += ONE - total // rounding must not brighten or darken
    start[i] = first
  }
  const result = { start, weights, taps: padded }
  tapCache.set(key, result)
  if (tapCache.size > 256) tapCache.delete(tapCache.keys().next().value!)
  return result
}

/**
 * Separable Lanczos-3 resample of the region (x0, y0, sw, sh) of a w × h plane (rows of `stride`)
 * to ow × oh samples, in 16-bit fixed point (WebAssembly SIMD, `jpeg-kernels.ts`). Region
 * coordinates may be fractional (chroma grids).
 */
export function resamplePlane(data: Uint8Array, w: number, h: number, x0: number, y0: number, sw: number, sh: number, ow: number, oh: number, stride = w): Uint8Array {
  const tx = taps(w, x0, sw, ow, 8)
  const ty = taps(h, y0, sh, oh, 1)
  // Only the source rows some output row reads.
  const rowLo = ty.start[0]!
  const rows = ty.start[oh - 1]! + ty.taps - rowLo
  const line = (ow + 7) & ~7
  const k = JpegKernels.get()
  k.begin()
  const src = k.put(data.subarray(rowLo * stride, (rowLo + rows - 1) * stride + w))
  const mid = k.alloc(rows * line * 2)
  k.k.resampleRows(src, stride, rows, ow, k.put(tx.start), k.put(tx.weights), tx.taps, mid, line)
  const out = k.alloc(line * oh)
  k.k.resampleColumns(mid, line, oh, k.put(ty.start.map((s) => s - rowLo)), k.put(ty.weights), ty.taps, out, line, line)
  const mem = k.u8()
  if (line === ow) return mem.slice(out, out + ow * oh)
  const result = new Uint8Array(ow * oh)
  for (let y = 0; y < oh; y++) result.set(mem.subarray(out + y * line, out + y * line + ow), y * ow)
  return result
}
