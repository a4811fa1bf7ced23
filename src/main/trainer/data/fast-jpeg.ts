/**
 * The importer's fast path for large JPEGs: decode at 1/8 in the DCT domain (`jpeg-eighth.ts`),
 * apply EXIF orientation, crop / pad / stretch and Lanczos-3 resample to the training resolution,
 * the same steps sharp takes with shrink-on-load. Used only where 1/8 of the image still has at
 * least 9/8 of the pixels the output needs (the margin sharp keeps before it shrinks on load), so
 * the result matches sharp's to a level or two; anything else declines and goes through sharp.
 *
 * Needs nothing beyond sibling modules without dependencies (and types): it runs in decode worker threads.
 */
import { decodeJpegEighth, ycbcrToRgb, type Declined, type Plane } from './jpeg-eighth'
import { readImageHeader } from './image-header'
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

export function decodeJpegFast(buf: Uint8Array, pp: FastPreprocess): FastDecoded | Declined {
  const header = readImageHeader(buf)
  if (!header || header.format !== 'jpeg') return { declined: 'not a JPEG' }
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
  const small = decodeJpegEighth(buf)
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

interface Taps {
  start: Int32Array
  count: Int32Array
  weights: Float64Array
  maxTaps: number
}

const tapCache = new Map<string, Taps>()

/** Lanczos-3 taps mapping the source span [offset, offset + span) of an axis `size` long onto `out` samples. */
function taps(size: number, offset: number, span: number, out: number): Taps {
  const key = `${size}:${offset}:${span}:${out}`
  const cached = tapCache.get(key)
  if (cached) return cached
  const scale = out / span
  const support = 3 * Math.max(1, 1 / scale)
  const maxTaps = Math.ceil(support) * 2 + 1
  const start = new Int32Array(out)
  const count = new Int32Array(out)
  const weights = new Float64Array(out * maxTaps)
  const lanczos = (x: number): number => {
    if (x === 0) return 1
    if (x <= -3 || x >= 3) return 0
    const px = Math.PI * x
    return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px)
  }
  const stretch = Math.max(1, 1 / scale)
  for (let i = 0; i < out; i++) {
    const centre = offset + (i + 0.5) / scale - 0.5
    const lo = Math.max(0, Math.ceil(centre - support))
    const hi = Math.min(size - 1, Math.floor(centre + support))
    let sum = 0
    const n = Math.min(maxTaps, hi - lo + 1)
    for (let t = 0; t < n; t++) {
      const wgt = lanczos((lo + t - centre) / stretch)
      weights[i * maxTaps + t] = wgt
      sum += wgt
    }
    for (let t = 0; t < n; t++) weights[i * maxTaps + t]! /= sum || 1
    start[i] = lo
    count[i] = n
  }
  const result = { start, count, weights, maxTaps }
  tapCache.set(key, result)
  if (tapCache.size > 256) tapCache.delete(tapCache.keys().next().value!)
  return result
}

/**
 * Separable Lanczos-3 resample of the region (x0, y0, sw, sh) of a w × h plane (rows of `stride`)
 * to ow × oh samples. Region coordinates may be fractional (chroma grids).
 */
export function resamplePlane(data: Uint8Array, w: number, h: number, x0: number, y0: number, sw: number, sh: number, ow: number, oh: number, stride = w): Uint8Array {
  const tx = taps(w, x0, sw, ow)
  const ty = taps(h, y0, sh, oh)
  // Only the source rows some output row reads.
  const rowLo = ty.start[0]!
  const rowHi = ty.start[oh - 1]! + ty.count[oh - 1]! - 1
  const mid = horizontal(data, stride, rowLo, rowHi - rowLo + 1, ow, tx.start, tx.count, tx.weights, tx.maxTaps)
  return vertical(mid, ow, oh, rowLo, ty.start, ty.count, ty.weights, ty.maxTaps)
}

function horizontal(src: Uint8Array, stride: number, rowLo: number, rows: number, ow: number, start: Int32Array, count: Int32Array, weights: Float64Array, maxTaps: number): Float64Array {
  const mid = new Float64Array(rows * ow)
  for (let r = 0; r < rows; r++) {
    const row = (rowLo + r) * stride
    for (let x = 0, o = r * ow; x < ow; x++, o++) {
      const n = count[x]!
      let s = row + start[x]!
      let wo = x * maxTaps
      let a = 0
      for (let t = 0; t < n; t++, s++, wo++) a += src[s]! * weights[wo]!
      mid[o] = a
    }
  }
  return mid
}

function vertical(mid: Float64Array, line: number, oh: number, rowLo: number, start: Int32Array, count: Int32Array, weights: Float64Array, maxTaps: number): Uint8Array {
  const out = new Uint8Array(line * oh)
  const acc = new Float64Array(line)
  for (let y = 0; y < oh; y++) {
    const s0 = start[y]! - rowLo
    const n = count[y]!
    acc.fill(0)
    for (let t = 0; t < n; t++) {
      const wt = weights[y * maxTaps + t]!
      const base = (s0 + t) * line
      for (let i = 0; i < line; i++) acc[i] += mid[base + i]! * wt
    }
    const o = y * line
    for (let i = 0; i < line; i++) {
      const v = acc[i]!
      out[o + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v)
    }
  }
  return out
}
