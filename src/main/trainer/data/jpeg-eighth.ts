/**
 * Decodes a baseline JPEG at 1/8 of its size, straight from the DCT domain: each 8×8 block
 * becomes one pixel, its DC coefficient (what libjpeg's 1×1 inverse DCT computes, and what
 * Pillow's draft mode and libvips' shrink-on-load ask libjpeg for). Training images are 32–256 px,
 * so a 2000×1500 photo needs no more than its 250×188 block averages.
 *
 * Why not libjpeg (through sharp) for this: at 1/8 almost all of libjpeg's time goes on Huffman
 * decoding the AC coefficients one symbol at a time, only to throw them away. Here the AC symbols
 * are skipped several at a time with a table that, for each 12-bit window, says how many bits
 * and coefficients the complete symbols in it take; that loop and the 1×1 IDCT run as
 * WebAssembly (`jpeg-kernels.ts`). On photo-sized files this is faster than libjpeg-turbo's
 * native decoder at the same scale (issue 5, import speed).
 *
 * Only the common case is handled: 8-bit baseline or extended sequential Huffman JPEGs (SOF0/1)
 * with one interleaved scan, greyscale or YCbCr, any sampling factors, restart intervals.
 * Everything else (progressive, arithmetic coding, 12-bit, CMYK, Adobe RGB transform, colour
 * profiles other than sRGB) and anything damaged returns a reason instead, and the caller decodes
 * the file with sharp, which also gives damaged files their proper message.
 *
 * Imports only the kernels: it runs in decode worker threads.
 */
import { JpegKernels, SCAN_FAILURES } from './jpeg-kernels'

export interface EighthImage {
  /** Reduced size: ceil(width / 8) × ceil(height / 8), before EXIF orientation. */
  width: number
  height: number
  /** Y (greyscale: the only plane), then Cb and Cr at their own sampling. */
  planes: Plane[]
  /** Stored size of the full image, before EXIF orientation. */
  fullWidth: number
  fullHeight: number
}

/** One component at 1/8 scale: `width` × `height` valid samples in rows of `stride`. */
export interface Plane {
  data: Uint8Array
  stride: number
  width: number
  height: number
  /** Subsampling relative to the luma grid: 1, 2 (4:2:0 / 4:2:2 chroma) or more. */
  rx: number
  ry: number
}

/** Why the fast path was not taken; the caller falls back to sharp. */
export interface Declined {
  declined: string
}

/** Bits of lookahead of the multi-symbol AC table (the same constant in src/wasm/jpeg.ts). Measured 10–16: 12–15 alike, 10 and 16 slower; 12 builds fastest. */
const WINDOW = 12

interface HuffTable {
  /** 16-bit lookahead → (code length << 8) | symbol; 0 for no code. */
  single: Uint16Array
  /** AC only: WINDOW-bit lookahead → bits | coefficients advanced << 5 | end-of-block << 12; 0 when the first symbol does not fit. */
  multi: Uint16Array | null
}

interface Component {
  id: number
  h: number
  v: number
  q: number
  dc: number
  ac: number
}

/** Tables keyed by their DHT bytes: cameras and most software use the same few (per-image optimised ones are rebuilt). */
const tableCache = new Map<string, HuffTable>()
const TABLE_CACHE_MAX = 64

function buildTable(counts: Uint8Array, symbols: Uint8Array, isAc: boolean): HuffTable | null {
  const single = new Uint16Array(65536)
  let code = 0
  let k = 0
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]!; i++) {
      const start = code << (16 - len)
      const end = start + (1 << (16 - len))
      if (end > 65536) return null // over-subscribed: not a valid Huffman table
      single.fill((len << 8) | symbols[k++]!, start, end)
      code++
    }
    code <<= 1
  }
  return { single, multi: isAc ? buildMulti(single) : null }
}

function buildMulti(single: Uint16Array): Uint16Array {
  const size = 1 << WINDOW
  const table = new Uint16Array(size)
  for (let v = 0; v < size; v++) {
    let used = 0
    let advanced = 0
    let eob = 0
    while (used < WINDOW) {
      const e = single[((v << used) & (size - 1)) << (16 - WINDOW)]!
      if (e === 0) break
      const len = e >> 8
      const sym = e & 0xff
      if (len + (sym & 15) > WINDOW - used) break
      if (sym === 0) {
        used += len
        eob = 1
        break
      }
      used += len + (sym & 15)
      advanced += sym === 0xf0 ? 16 : (sym >> 4) + 1
      if (advanced > 62) break
    }
    table[v] = used === 0 ? 0 : used | (advanced << 5) | (eob << 12)
  }
  return table
}

function tableFor(buf: Uint8Array, at: number, isAc: boolean, count: number): HuffTable | null {
  let key = isAc ? 'a' : 'd'
  for (let i = at; i < at + 16 + count; i++) key += String.fromCharCode(buf[i]!)
  const cached = tableCache.get(key)
  if (cached) return cached
  const built = buildTable(buf.subarray(at, at + 16), buf.subarray(at + 16, at + 16 + count), isAc)
  if (!built) return null
  tableCache.set(key, built)
  if (tableCache.size > TABLE_CACHE_MAX) tableCache.delete(tableCache.keys().next().value!)
  return built
}

const decline = (declined: string): Declined => ({ declined })

/** True when an ICC profile (APP2 chunks' payload) describes sRGB: then no colour conversion is due. */
export function isSrgbProfile(icc: Uint8Array): boolean {
  if (icc.length < 132) return false
  const text = (at: number, n: number): string => String.fromCharCode(...icc.subarray(at, at + n))
  if (text(16, 4) !== 'RGB ') return false
  // Look for "sRGB" in the description tag's text (ASCII 'desc' or UTF-16 'mluc').
  const tags = (icc[128]! << 24) | (icc[129]! << 16) | (icc[130]! << 8) | icc[131]!
  for (let t = 0; t < tags && 132 + t * 12 + 12 <= icc.length; t++) {
    const at = 132 + t * 12
    if (text(at, 4) !== 'desc') continue
    const off = ((icc[at + 4]! << 24) | (icc[at + 5]! << 16) | (icc[at + 6]! << 8) | icc[at + 7]!) >>> 0
    const size = ((icc[at + 8]! << 24) | (icc[at + 9]! << 16) | (icc[at + 10]! << 8) | icc[at + 11]!) >>> 0
    const body = icc.subarray(off, Math.min(icc.length, off + size))
    const ascii = String.fromCharCode(...body.filter((b) => b >= 32 && b < 127))
    return /sRGB/i.test(ascii)
  }
  return false
}

export function decodeJpegEighth(buf: Uint8Array): EighthImage | Declined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return decline('not a JPEG')
  const u16 = (i: number): number => (buf[i]! << 8) | buf[i + 1]!
  const quant: number[] = []
  const dcTables: Array<HuffTable | undefined> = []
  const acTables: Array<HuffTable | undefined> = []
  let comps: Component[] | null = null
  let width = 0
  let height = 0
  let restartInterval = 0
  let adobeTransform = -1
  const icc: Uint8Array[] = []
  let i = 2
  let scanStart = -1
  while (scanStart < 0) {
    if (i + 4 > buf.length) return decline('ends before its image data')
    if (buf[i] !== 0xff) return decline('malformed marker')
    const m = buf[i + 1]!
    if (m === 0xff) {
      i++
      continue
    }
    i += 2
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue
    const len = u16(i)
    if (len < 2 || i + len > buf.length) return decline('malformed segment')
    const end = i + len
    switch (m) {
      case 0xdb: {
        let p = i + 2
        while (p < end) {
          const precision = buf[p]! >> 4
          const id = buf[p]! & 15
          quant[id] = precision ? u16(p + 1) : buf[p + 1]!
          p += 1 + (precision ? 128 : 64)
        }
        break
      }
      case 0xc4: {
        let p = i + 2
        while (p + 17 <= end) {
          const isAc = buf[p]! >> 4 === 1
          const id = buf[p]! & 15
          let count = 0
          for (let c = 1; c <= 16; c++) count += buf[p + c]!
          if (p + 17 + count > end) return decline('malformed Huffman table')
          const table = tableFor(buf, p + 1, isAc, count)
          if (!table) return decline('malformed Huffman table')
          ;(isAc ? acTables : dcTables)[id] = table
          p += 17 + count
        }
        break
      }
      case 0xc0:
      case 0xc1: {
        if (buf[i + 2] !== 8) return decline(`${buf[i + 2]}-bit samples`)
        height = u16(i + 3)
        width = u16(i + 5)
        const n = buf[i + 7]!
        if (n !== 1 && n !== 3) return decline(`${n} colour components`)
        comps = []
        for (let c = 0; c < n; c++) {
          const o = i + 8 + c * 3
          const h = buf[o + 1]! >> 4
          const v = buf[o + 1]! & 15
          if (h < 1 || h > 4 || v < 1 || v > 4) return decline('unusual sampling factors')
          comps.push({ id: buf[o]!, h, v, q: buf[o + 2]!, dc: -1, ac: -1 })
        }
        break
      }
      case 0xdd:
        restartInterval = u16(i + 2)
        break
      case 0xee:
        if (len >= 14 && String.fromCharCode(...buf.subarray(i + 2, i + 7)) === 'Adobe') adobeTransform = buf[i + 13]!
        break
      case 0xe2:
        if (len > 16 && String.fromCharCode(...buf.subarray(i + 2, i + 14)) === 'ICC_PROFILE\0') icc.push(buf.subarray(i + 16, end))
        break
      case 0xda: {
        if (!comps) return decline('no frame header before the scan')
        const ns = buf[i + 2]!
        if (ns !== comps.length) return decline('several scans')
        for (let c = 0; c < ns; c++) {
          const comp = comps.find((x) => x.id === buf[i + 3 + c * 2])
          if (!comp) return decline('scan names an unknown component')
          comp.dc = buf[i + 4 + c * 2]! >> 4
          comp.ac = buf[i + 4 + c * 2]! & 15
        }
        const at = i + 3 + ns * 2
        if (buf[at] !== 0 || buf[at + 1] !== 63 || buf[at + 2] !== 0) return decline('not a sequential scan')
        scanStart = end
        break
      }
      default:
        if (m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return decline('progressive, lossless or arithmetic-coded')
    }
    i = end
  }
  if (!comps || width === 0 || height === 0) return decline('no image size')
  if (comps.length === 3 && adobeTransform === 0) return decline('RGB (not YCbCr) JPEG')
  if (icc.length > 0) {
    const profile = icc.length === 1 ? icc[0]! : concat(icc)
    if (!isSrgbProfile(profile)) return decline('colour profile other than sRGB')
  }
  for (const c of comps) {
    if (quant[c.q] === undefined || !dcTables[c.dc] || !acTables[c.ac]) return decline('missing tables')
  }

  const single = comps.length === 1
  const hmax = single ? 1 : Math.max(...comps.map((c) => c.h))
  const vmax = single ? 1 : Math.max(...comps.map((c) => c.v))
  if (single) comps[0]!.h = comps[0]!.v = 1
  const mcuX = Math.ceil(width / (8 * hmax))
  const mcuY = Math.ceil(height / (8 * vmax))
  const k = JpegKernels.get()
  k.begin()

  // Tables, one copy each however many components share it.
  const placed = new Map<Uint16Array, number>()
  const place = (t: Uint16Array): number => placed.get(t) ?? placed.set(t, k.put(t)).get(t)!
  const layout = comps.map((c) => {
    const ac = acTables[c.ac]!
    const blocks = mcuX * c.h * mcuY * c.v
    return { dc: place(dcTables[c.dc]!.single), ac: place(ac.single), multi: place(ac.multi!), blocks, plane: k.alloc(blocks * 2), stride: mcuX * c.h }
  })

  // Entropy-coded data without byte stuffing, compacted in place; restart markers become offsets.
  const length = buf.length - scanStart
  const dataAt = k.alloc(length + 64)
  let mem = k.u8()
  mem.set(buf.subarray(scanStart), dataAt)
  const end = dataAt + length
  const restarts: number[] = []
  let n = dataAt
  let p = dataAt
  for (;;) {
    let ff = mem.indexOf(0xff, p)
    if (ff < 0 || ff >= end) ff = end
    if (n !== p) mem.copyWithin(n, p, ff)
    n += ff - p
    if (ff + 1 >= end) break
    const next = mem[ff + 1]!
    if (next === 0) {
      mem[n++] = 0xff
      p = ff + 2
    } else if (next >= 0xd0 && next <= 0xd7) {
      restarts.push(n - dataAt)
      p = ff + 2
    } else if (next === 0xff) {
      p = ff + 1
    } else break
  }
  mem.fill(0, n, n + 64) // zero padding: the bit reader's look-ahead sees no stray bits

  const restartsAt = k.put(Int32Array.from(restarts))
  const descriptors = k.alloc(layout.length * 32)
  k.i32(descriptors, layout.length * 8).set(layout.flatMap((l, ci) => [comps[ci]!.h, comps[ci]!.v, l.dc, l.ac, l.multi, l.plane, l.stride, 0]))
  let code: number
  try {
    code = k.k.scan(dataAt, n - dataAt, restartsAt, restarts.length, restartInterval, mcuX, mcuY, descriptors, layout.length)
  } catch {
    code = 3 // a read past the end of memory: only damaged data gets that far
  }
  if (code !== 0) return decline(SCAN_FAILURES[code] ?? 'damaged')

  // One pixel per luma block: libjpeg's 1×1 IDCT, (DC × q + 4) >> 3, level-shifted and clamped.
  const outW = Math.ceil(width / 8)
  const outH = Math.ceil(height / 8)
  const out: Plane[] = comps.map((c, ci) => {
    const { plane, blocks, stride } = layout[ci]!
    const samples = k.alloc(blocks)
    k.k.dequantise(plane, samples, blocks, quant[c.q]!)
    mem = k.u8()
    const rx = hmax / c.h
    const ry = vmax / c.v
    return { data: mem.slice(samples, samples + blocks), stride, width: Math.ceil(outW / rx), height: Math.ceil(outH / ry), rx, ry }
  })
  return { width: outW, height: outH, planes: out, fullWidth: width, fullHeight: height }
}

/** The whole 1/8 image as RGB (chroma interpolated onto the luma grid): for previews and tests. */
export function eighthToRgb(img: EighthImage): Uint8Array {
  const { width: w, height: h } = img
  const rgb = new Uint8Array(w * h * 3)
  const [Y, Cb, Cr] = img.planes
  if (!Cb || !Cr) {
    for (let r = 0; r < h; r++) {
      for (let x = 0, o = r * w * 3, j = r * Y!.stride; x < w; x++, o += 3, j++) rgb[o] = rgb[o + 1] = rgb[o + 2] = Y!.data[j]!
    }
    return rgb
  }
  const up = (p: Plane): Uint8Array => upsample(p.data, p.stride, p.height, p.rx, p.ry, w, h)
  ycbcrToRgb(Y!.data, Y!.stride, up(Cb), up(Cr), w, h, rgb)
  return rgb
}

export function ycbcrToRgb(Y: Uint8Array, yStride: number, Cb: Uint8Array, Cr: Uint8Array, outW: number, outH: number, rgb: Uint8Array): void {
  const t = colourTables()
  const crR = t.crR
  const cbB = t.cbB
  const cbG = t.cbG
  const crG = t.crG
  for (let r = 0; r < outH; r++) {
    for (let x = 0, j = r * outW, o = j * 3, yj = r * yStride; x < outW; x++, j++, o += 3, yj++) {
      const y = Y[yj]!
      const cb = Cb[j]!
      const cr = Cr[j]!
      let v = y + crR[cr]!
      rgb[o] = v < 0 ? 0 : v > 255 ? 255 : v
      v = y + ((cbG[cb]! + crG[cr]!) >> 16)
      rgb[o + 1] = v < 0 ? 0 : v > 255 ? 255 : v
      v = y + cbB[cb]!
      rgb[o + 2] = v < 0 ? 0 : v > 255 ? 255 : v
    }
  }
}

interface ColourTables {
  crR: Int32Array
  cbB: Int32Array
  /** 16.16 fixed point, with the rounding half included in cbG. */
  cbG: Int32Array
  crG: Int32Array
}

let colour: ColourTables | null = null

function colourTables(): ColourTables {
  if (colour) return colour
  const crR = new Int32Array(256)
  const cbB = new Int32Array(256)
  const cbG = new Int32Array(256)
  const crG = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    const x = i - 128
    crR[i] = Math.round(1.402 * x)
    cbB[i] = Math.round(1.772 * x)
    cbG[i] = -Math.round(0.344136 * 65536) * x + 32768
    crG[i] = -Math.round(0.714136 * 65536) * x
  }
  return (colour = { crR, cbB, cbG, crG })
}

/** A component plane (`w` wide, `h` high) brought to outW × outH: a copy at ratio 1, else centred linear interpolation (weights in 1/256). */
function upsample(src: Uint8Array, w: number, h: number, rx: number, ry: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH)
  if (rx === 1 && ry === 1) {
    for (let r = 0; r < outH; r++) out.set(src.subarray(r * w, r * w + outW), r * outW)
    return out
  }
  const x0 = new Int32Array(outW)
  const x1 = new Int32Array(outW)
  const fx = new Int32Array(outW)
  interpolationAxis(outW, rx, w, x0, x1, fx)
  const y0 = new Int32Array(outH)
  const y1 = new Int32Array(outH)
  const fy = new Int32Array(outH)
  interpolationAxis(outH, ry, h, y0, y1, fy)
  // Horizontal pass over the source rows that are read (×256), then vertical blends.
  const rows = Math.min(h, y1[outH - 1]! + 1)
  const mid = new Int32Array(rows * outW)
  for (let r = 0; r < rows; r++) {
    const base = r * w
    const o = r * outW
    for (let x = 0; x < outW; x++) {
      const a = src[base + x0[x]!]!
      mid[o + x] = (a << 8) + (src[base + x1[x]!]! - a) * fx[x]!
    }
  }
  for (let y = 0; y < outH; y++) {
    const t = y0[y]! * outW
    const b = y1[y]! * outW
    const f = fy[y]!
    const o = y * outW
    for (let x = 0; x < outW; x++) {
      const top = mid[t + x]!
      out[o + x] = ((top << 8) + (mid[b + x]! - top) * f + 32768) >> 16
    }
  }
  return out
}

function interpolationAxis(size: number, ratio: number, limit: number, i0: Int32Array, i1: Int32Array, f: Int32Array): void {
  for (let x = 0; x < size; x++) {
    const s = Math.max(0, (x + 0.5) / ratio - 0.5)
    const a = Math.min(Math.floor(s), limit - 1)
    i0[x] = a
    i1[x] = Math.min(a + 1, limit - 1)
    f[x] = Math.round((s - a) * 256)
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
