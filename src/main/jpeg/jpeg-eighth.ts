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
 * WebAssembly (`jpeg-kernels.ts`).
 *
 * Progressive JPEGs (common on the web) are cheaper still: their DC coefficients come in scans of
 * their own, so only those are decoded and the AC scans are skipped unread (`progressiveDc`),
 * where libjpeg has to decode every scan even for a 1/8 image.
 *
 * Handled: 8-bit Huffman-coded JPEGs, baseline or extended sequential (SOF0/1, one interleaved
 * scan) or progressive (SOF2), greyscale or YCbCr, any sampling factors, restart intervals.
 * Everything else (arithmetic coding, lossless, 12-bit, CMYK, Adobe RGB transform, colour
 * profiles other than sRGB) and anything damaged returns a reason instead, and the caller decodes
 * the file with sharp, which also gives damaged files their proper message. "Damaged" is judged as
 * libjpeg would: table definitions, frame and scan headers, restart markers (numbered in turn, as
 * many as the interval says), the end of the image, libjpeg's 65,500 px side and sharp's pixel
 * limit. A progressive file's AC scans are not read, so this decoder cannot vouch for them: the
 * importer asks for baseline files only (`progressive: false`).
 *
 * Imports only the kernels: it runs in decode worker threads.
 */
import { DESCRIPTOR, SCAN_OK, WINDOW } from './constants'
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

/** libjpeg's largest side (JPEG_MAX_DIMENSION): larger frames are refused by sharp, so here too. */
export const MAX_SIDE = 65500
/** sharp's default pixel limit (`limitInputPixels`): larger images are refused by sharp, so here too. */
export const MAX_PIXELS = 0x3fff * 0x3fff


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

/** i32 fields of a scan-kernel component descriptor, as laid out in `baselineDc`; DESCRIPTOR is their byte size. */
export const DESCRIPTOR_FIELDS = 8
if (DESCRIPTOR_FIELDS * 4 !== DESCRIPTOR) throw new Error('jpeg-eighth: the descriptor layout does not match constants.json (DESCRIPTOR)')

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

/** What the segments before (and, in progressive files, between) the scans say. */
interface Header {
  quant: number[]
  /** Huffman tables by class and id, as where their definition sits in the file (built on first use). */
  dc: Array<{ at: number; count: number } | undefined>
  ac: Array<{ at: number; count: number } | undefined>
  comps: Component[] | null
  progressive: boolean
  width: number
  height: number
  restartInterval: number
  adobeTransform: number
  icc: Uint8Array[]
}

const u16 = (buf: Uint8Array, i: number): number => (buf[i]! << 8) | buf[i + 1]!

/**
 * libjpeg's checks of a Huffman table (counts at `at`, then `count` symbols): the codes must fit
 * their lengths without an all-ones code, and DC symbols (difference sizes) must be at most 15.
 */
function validCode(buf: Uint8Array, at: number, count: number, isDc: boolean): boolean {
  let code = 0
  for (let len = 1; len <= 16; len++) {
    const n = buf[at + len - 1]!
    code += n
    // As libjpeg: the codes of each length must fit it, and none may be all ones.
    if (n > 0 && code >= 1 << len) return false
    code <<= 1
  }
  if (isDc) for (let k = 0; k < count; k++) if (buf[at + 16 + k]! > 15) return false
  return true
}

/** Restart markers expected in a scan of `units` MCUs (or blocks) with a restart every `interval`. */
function expectedRestarts(units: number, interval: number): number {
  return interval > 0 ? Math.ceil(units / interval) - 1 : 0
}

/**
 * Why a scan's header (at its length field) is not one libjpeg reads, or null: 1–4 components of
 * the frame, and a length that matches them.
 */
function checkScanHeader(buf: Uint8Array, h: Header, at: number): string | null {
  const ns = buf[at + 2]!
  if (ns < 1 || ns > 4 || u16(buf, at) !== 6 + 2 * ns) return 'malformed scan header'
  for (let c = 0; c < ns; c++) {
    if (!h.comps!.some((x) => x.id === buf[at + 3 + c * 2])) return 'scan names an unknown component'
    const tables = buf[at + 4 + c * 2]!
    if (tables >> 4 > 3 || (tables & 15) > 3) return 'malformed scan header'
  }
  return null
}

/**
 * Reads one marker segment other than a scan (`m`, payload at `i`, `len` bytes with the length
 * field) into `h`. Returns why the file is declined, or null.
 */
function readSegment(buf: Uint8Array, h: Header, m: number, i: number, len: number): string | null {
  const end = i + len
  switch (m) {
    case 0xdb: {
      let p = i + 2
      while (p < end) {
        const precision = buf[p]! >> 4
        const id = buf[p]! & 15
        if (precision > 1 || id > 3 || p + 1 + (precision ? 128 : 64) > end) return 'malformed quantisation table'
        h.quant[id] = precision ? u16(buf, p + 1) : buf[p + 1]!
        p += 1 + (precision ? 128 : 64)
      }
      return null
    }
    case 0xc4: {
      let p = i + 2
      while (p < end) {
        if (p + 17 > end) return 'malformed Huffman table'
        const tableClass = buf[p]! >> 4
        const id = buf[p]! & 15
        let count = 0
        for (let c = 1; c <= 16; c++) count += buf[p + c]!
        if (tableClass > 1 || id > 3 || count > 256 || p + 17 + count > end) return 'malformed Huffman table'
        if (!validCode(buf, p + 1, count, tableClass === 0)) return 'malformed Huffman table'
        ;(tableClass === 1 ? h.ac : h.dc)[id] = { at: p + 1, count }
        p += 17 + count
      }
      return null
    }
    case 0xc0:
    case 0xc1:
    case 0xc2: {
      if (h.comps) return 'several frames'
      if (buf[i + 2] !== 8) return `${buf[i + 2]}-bit samples`
      h.progressive = m === 0xc2
      h.height = u16(buf, i + 3)
      h.width = u16(buf, i + 5)
      const n = buf[i + 7]!
      if (n !== 1 && n !== 3) return `${n} colour components`
      if (len !== 8 + 3 * n) return 'malformed frame header'
      if (h.width === 0 || h.height === 0) return 'no image size in its frame header'
      if (h.width > MAX_SIDE || h.height > MAX_SIDE) return `larger than ${MAX_SIDE} px on a side`
      if (h.width * h.height > MAX_PIXELS) return 'over the pixel limit'
      h.comps = []
      for (let c = 0; c < n; c++) {
        const o = i + 8 + c * 3
        const hs = buf[o + 1]! >> 4
        const vs = buf[o + 1]! & 15
        if (hs < 1 || hs > 4 || vs < 1 || vs > 4) return 'unusual sampling factors'
        h.comps.push({ id: buf[o]!, h: hs, v: vs, q: buf[o + 2]!, dc: -1, ac: -1 })
      }
      return null
    }
    case 0xdd:
      if (len !== 4) return 'malformed restart interval'
      h.restartInterval = u16(buf, i + 2)
      return null
    case 0xee:
      if (len >= 14 && String.fromCharCode(...buf.subarray(i + 2, i + 7)) === 'Adobe') h.adobeTransform = buf[i + 13]!
      return null
    case 0xe2:
      if (len > 16 && String.fromCharCode(...buf.subarray(i + 2, i + 14)) === 'ICC_PROFILE\0') h.icc.push(buf.subarray(i + 16, end))
      return null
    default:
      if (m >= 0xc3 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return 'lossless, hierarchical or arithmetic-coded'
      return null
  }
}

/**
 * Walks markers from `i` up to the next scan or the end of the image, reading each segment into
 * `h`. Returns the start of the scan header's length field, -1 at EOI, or why the file is declined.
 */
function nextScan(buf: Uint8Array, h: Header, i: number): number | string {
  for (;;) {
    if (i + 2 > buf.length) return 'damaged or truncated'
    if (buf[i] !== 0xff) return 'malformed marker'
    const m = buf[i + 1]!
    if (m === 0xff) {
      i++
      continue
    }
    i += 2
    if (m === 0xd9) return -1
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue
    if (i + 2 > buf.length) return 'damaged or truncated'
    const len = u16(buf, i)
    if (len < 2 || i + len > buf.length) return 'malformed segment'
    if (m === 0xda) return i
    const failed = readSegment(buf, h, m, i, len)
    if (failed) return failed
    i += len
  }
}

/**
 * `progressive: false` declines progressive files (after their header is read): their AC scans are
 * skipped unread, so this decoder cannot vouch that libjpeg would accept them.
 */
export function decodeJpegEighth(buf: Uint8Array, options: { progressive?: boolean } = { progressive: true }): EighthImage | Declined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return decline('not a JPEG')
  const h: Header = { quant: [], dc: [], ac: [], comps: null, progressive: false, width: 0, height: 0, restartInterval: 0, adobeTransform: -1, icc: [] }
  const sos = nextScan(buf, h, 2)
  if (typeof sos === 'string') return decline(sos === 'damaged or truncated' ? 'ends before its image data' : sos)
  if (sos < 0) return decline('no image data')
  const { comps, width, height } = h
  if (!comps || width === 0 || height === 0) return decline('no frame header before the scan')
  if (h.progressive && options.progressive === false) return decline('progressive (its AC scans are not checked here)')
  if (comps.length === 3 && h.adobeTransform === 0) return decline('RGB (not YCbCr) JPEG')
  if (h.icc.length > 0) {
    const profile = h.icc.length === 1 ? h.icc[0]! : concat(h.icc)
    if (!isSrgbProfile(profile)) return decline('colour profile other than sRGB')
  }
  const single = comps.length === 1
  if (single) comps[0]!.h = comps[0]!.v = 1
  const hmax = Math.max(...comps.map((c) => c.h))
  const vmax = Math.max(...comps.map((c) => c.v))
  const geometry: Geometry = { hmax, vmax, mcuX: Math.ceil(width / (8 * hmax)), mcuY: Math.ceil(height / (8 * vmax)) }
  const planes = h.progressive ? progressiveDc(buf, h, sos, geometry) : baselineDc(buf, h, sos, geometry)
  if ('declined' in planes) return planes

  // One pixel per luma block: libjpeg's 1×1 IDCT, (DC × q + 4) >> 3, level-shifted and clamped.
  const k = JpegKernels.get()
  const outW = Math.ceil(width / 8)
  const outH = Math.ceil(height / 8)
  const out: Plane[] = []
  for (let ci = 0; ci < comps.length; ci++) {
    const c = comps[ci]!
    const q = h.quant[c.q]
    if (q === undefined) return decline('missing tables')
    const blocks = geometry.mcuX * c.h * geometry.mcuY * c.v
    const samples = k.alloc(blocks)
    k.k.dequantise(planes.at[ci]!, samples, blocks, q)
    const rx = hmax / c.h
    const ry = vmax / c.v
    out.push({ data: k.u8().slice(samples, samples + blocks), stride: geometry.mcuX * c.h, width: Math.ceil(outW / rx), height: Math.ceil(outH / ry), rx, ry })
  }
  return { width: outW, height: outH, planes: out, fullWidth: width, fullHeight: height }
}

interface Geometry {
  hmax: number
  vmax: number
  /** MCUs across and down. A component's plane is mcuX·h × mcuY·v blocks. */
  mcuX: number
  mcuY: number
}

/** Where each component's DC plane (i16, mcuX·h × mcuY·v) lies in the kernels' memory. */
interface DcPlanes {
  at: number[]
}

function huffman(buf: Uint8Array, raw: { at: number; count: number } | undefined, isAc: boolean): HuffTable | null {
  return raw ? tableFor(buf, raw.at, isAc, raw.count) : null
}

/** A baseline / extended sequential file: one interleaved scan, decoded by the `scan` kernel. */
function baselineDc(buf: Uint8Array, h: Header, sos: number, g: Geometry): DcPlanes | Declined {
  const comps = h.comps!
  const badHeader = checkScanHeader(buf, h, sos)
  if (badHeader) return decline(badHeader)
  const ns = buf[sos + 2]!
  if (ns !== comps.length) return decline('several scans')
  if (comps.reduce((n, c) => n + (comps.length === 1 ? 1 : c.h * c.v), 0) > 10) return decline('too many blocks per MCU')
  for (let c = 0; c < ns; c++) {
    const comp = comps.find((x) => x.id === buf[sos + 3 + c * 2])
    if (!comp) return decline('scan names an unknown component')
    comp.dc = buf[sos + 4 + c * 2]! >> 4
    comp.ac = buf[sos + 4 + c * 2]! & 15
  }
  const at = sos + 3 + ns * 2
  if (buf[at] !== 0 || buf[at + 1] !== 63 || buf[at + 2] !== 0) return decline('not a sequential scan')
  const scanStart = sos + u16(buf, sos)
  const tables: { dc: HuffTable; ac: HuffTable }[] = []
  for (const c of comps) {
    const dc = huffman(buf, h.dc[c.dc], false)
    const ac = huffman(buf, h.ac[c.ac], true)
    if (!dc || !ac) return decline(h.dc[c.dc] && h.ac[c.ac] ? 'malformed Huffman table' : 'missing tables')
    tables.push({ dc, ac })
  }

  const k = JpegKernels.get()
  k.begin()
  // Tables, one copy each however many components share it.
  const placed = new Map<Uint16Array, number>()
  const place = (t: Uint16Array): number => placed.get(t) ?? placed.set(t, k.put(t)).get(t)!
  const layout = comps.map((c, ci) => {
    const { dc, ac } = tables[ci]!
    return { dc: place(dc.single), ac: place(ac.single), multi: place(ac.multi!), plane: k.alloc(g.mcuX * c.h * g.mcuY * c.v * 2), stride: g.mcuX * c.h }
  })

  // Entropy-coded data without byte stuffing, straight into the kernels' memory.
  const dataAt = k.alloc(buf.length - scanStart + PADDING)
  const data = unstuff(buf, scanStart, k.u8(), dataAt)
  // What libjpeg would have to resynchronise over, or read past the end for, is left to sharp.
  if (data.end < 0) return decline('ends before its image data does')
  if (!data.ordered || data.restarts.length !== expectedRestarts(g.mcuX * g.mcuY, h.restartInterval)) {
    return decline('restart markers that do not match the restart interval')
  }
  const after = nextScan(buf, h, data.end)
  if (after !== -1) return decline(typeof after === 'string' ? after : 'several scans')
  const restartsAt = k.put(Int32Array.from(data.restarts))
  // One descriptor per component, DESCRIPTOR_FIELDS i32s (the last is the kernel's DC predictor).
  const descriptors = k.put(Int32Array.from(layout.flatMap((l, ci) => [comps[ci]!.h, comps[ci]!.v, l.dc, l.ac, l.multi, l.plane, l.stride, 0])))
  let code: number
  try {
    code = k.k.scan(dataAt, data.length, restartsAt, data.restarts.length, h.restartInterval, g.mcuX, g.mcuY, descriptors, layout.length)
  } catch {
    code = 3 // a read past the end of memory: only damaged data gets that far
  }
  if (code !== SCAN_OK) return decline(SCAN_FAILURES[code] ?? 'damaged')
  return { at: layout.map((l) => l.plane) }
}

/** Unstuffed entropy data of one progressive DC scan, reused between scans and images. */
let dcScratch = new Uint8Array(1 << 16)

/**
 * A progressive file: only its DC scans are decoded (the first pass and any refinement passes,
 * interleaved or one component at a time); AC scans, most of the file, are skipped unread.
 * That is all a 1/8 decode needs, and far less work than libjpeg's, which must decode every scan.
 */
function progressiveDc(buf: Uint8Array, h: Header, sos: number, g: Geometry): DcPlanes | Declined {
  const comps = h.comps!
  const planes = comps.map((c) => new Int16Array(g.mcuX * c.h * g.mcuY * c.v))
  const firstPass = comps.map(() => false)
  for (let at: number | string = sos; at !== -1; ) {
    if (typeof at === 'string') return decline(at)
    const badHeader = checkScanHeader(buf, h, at)
    if (badHeader) return decline(badHeader)
    const ns = buf[at + 2]!
    const header = at + 3 + ns * 2
    const ss = buf[header]!
    const se = buf[header + 1]!
    const ah = buf[header + 2]! >> 4
    const al = buf[header + 2]! & 15
    const start = at + u16(buf, at)
    let end: number
    if (ss === 0) {
      if (se !== 0 || ns < 1 || ns > 4 || al > 13) return decline('malformed progressive scan')
      const members: DcMember[] = []
      for (let c = 0; c < ns; c++) {
        const ci = comps.findIndex((x) => x.id === buf[at as number + 3 + c * 2])
        if (ci < 0) return decline('scan names an unknown component')
        const comp = comps[ci]!
        if (ah === 0) firstPass[ci] = true
        else if (!firstPass[ci]) return decline('malformed progressive scan')
        const table = ah === 0 ? huffman(buf, h.dc[buf[at + 4 + c * 2]! >> 4], false) : null
        if (ah === 0 && !table) return decline('missing tables')
        // One component alone is coded block by block over its own size, not MCU by MCU.
        const across = ns === 1 ? Math.ceil(Math.ceil((h.width * comp.h) / g.hmax) / 8) : g.mcuX
        const down = ns === 1 ? Math.ceil(Math.ceil((h.height * comp.v) / g.vmax) / 8) : g.mcuY
        members.push({ plane: planes[ci]!, stride: g.mcuX * comp.h, h: ns === 1 ? 1 : comp.h, v: ns === 1 ? 1 : comp.v, table: table?.single ?? null, across, down })
      }
      if (dcScratch.length < buf.length - start + PADDING) dcScratch = new Uint8Array(Math.max(buf.length - start + PADDING, dcScratch.length * 2))
      const data = unstuff(buf, start, dcScratch, 0)
      if (data.end < 0) return decline('damaged or truncated')
      const units = members[0]!.across * members[0]!.down
      if (!data.ordered || data.restarts.length !== expectedRestarts(units, h.restartInterval)) {
        return decline('restart markers that do not match the restart interval')
      }
      let failed: string | null
      try {
        failed = decodeDcScan(dcScratch, data.length, data.restarts, h.restartInterval, members, ah, al)
      } catch {
        failed = 'damaged or truncated' // a read past the end of the scratch buffer
      }
      if (failed) return decline(failed)
      end = data.end
    } else {
      // An AC scan: skipped, but only after the checks libjpeg makes before it decodes one.
      if (ns !== 1 || se < ss || se > 63 || ah > 13 || al > 13) return decline('malformed progressive scan')
      const ci = comps.findIndex((x) => x.id === buf[at as number + 3])
      const comp = comps[ci]!
      if (!h.ac[buf[at + 4]! & 15]) return decline('missing tables')
      const skipped = skipScan(buf, start)
      if (skipped.end < 0) return decline('damaged or truncated')
      const blocks = Math.ceil(Math.ceil((h.width * comp.h) / g.hmax) / 8) * Math.ceil(Math.ceil((h.height * comp.v) / g.vmax) / 8)
      if (!skipped.ordered || skipped.restarts !== expectedRestarts(blocks, h.restartInterval)) {
        return decline('restart markers that do not match the restart interval')
      }
      end = skipped.end
    }
    at = nextScan(buf, h, end)
  }
  if (firstPass.includes(false)) return decline('incomplete (a component has no DC scan)')
  const k = JpegKernels.get()
  k.begin()
  return { at: planes.map((p) => k.put(p)) }
}

interface DcMember {
  plane: Int16Array
  stride: number
  /** Blocks per unit: the component's sampling in an interleaved scan, 1×1 alone. */
  h: number
  v: number
  /** First pass only. */
  table: Uint16Array | null
  /** Units across and down: MCUs in an interleaved scan, the component's blocks alone. */
  across: number
  down: number
}

/** Zero bytes after unstuffed entropy data: the bit readers' look-ahead sees no stray bits. */
const PADDING = 64

/**
 * Copies the entropy data that starts at `buf[start]` into `out` from `at`, without byte
 * stuffing, up to the next marker, then PADDING zero bytes (`out` must have room for all of
 * `buf` after `start` plus those). Restart markers become offsets from `at`. `end` is the
 * marker's position in `buf`, or -1 when the data runs to the end of `buf` (a truncated file).
 * `ordered` is false when the restart markers are not numbered 0, 1, … 7, 0, … in turn.
 */
function unstuff(buf: Uint8Array, start: number, out: Uint8Array, at: number): { length: number; restarts: number[]; end: number; ordered: boolean } {
  const restarts: number[] = []
  let ordered = true
  let n = at
  let p = start
  let end = -1
  for (;;) {
    const ff = buf.indexOf(0xff, p)
    const stop = ff < 0 ? buf.length : ff
    out.set(buf.subarray(p, stop), n)
    n += stop - p
    if (ff < 0 || ff + 1 >= buf.length) break
    const next = buf[ff + 1]!
    if (next === 0) {
      out[n++] = 0xff
      p = ff + 2
    } else if (next >= 0xd0 && next <= 0xd7) {
      if (next - 0xd0 !== restarts.length % 8) ordered = false
      restarts.push(n - at)
      p = ff + 2
    } else if (next === 0xff) {
      p = ff + 1
    } else {
      end = ff
      break
    }
  }
  out.fill(0, n, n + PADDING)
  return { length: n - at, restarts, end, ordered }
}

/**
 * The position of the marker that ends the entropy data starting at `start` (-1 if there is none),
 * with the number of restart markers on the way and whether they were numbered in turn.
 */
function skipScan(buf: Uint8Array, start: number): { end: number; restarts: number; ordered: boolean } {
  let restarts = 0
  let ordered = true
  for (let p = start; ; ) {
    const ff = buf.indexOf(0xff, p)
    if (ff < 0 || ff + 1 >= buf.length) return { end: -1, restarts, ordered }
    const next = buf[ff + 1]!
    if (next >= 0xd0 && next <= 0xd7) {
      if (next - 0xd0 !== restarts % 8) ordered = false
      restarts++
      p = ff + 2
    } else if (next === 0) p = ff + 2
    else if (next === 0xff) p = ff + 1
    else return { end: ff, restarts, ordered }
  }
}

/**
 * One progressive DC scan: a first pass (`ah` 0: Huffman-coded differences, stored << `al`) or a
 * refinement pass (one bit per block, bit `al`). Returns why the data is damaged, or null.
 */
function decodeDcScan(data: Uint8Array, length: number, restarts: number[], restartInterval: number, members: DcMember[], ah: number, al: number): string | null {
  const view = new DataView(data.buffer, data.byteOffset)
  const limitBits = length * 8
  const pred = new Int32Array(members.length)
  const units = members[0]!.across * members[0]!.down
  const across = members[0]!.across
  let pos = 0
  let nextRestart = 0
  for (let u = 0; u < units; u++) {
    if (restartInterval > 0 && u > 0 && u % restartInterval === 0) {
      const at = restarts[nextRestart++]
      if (at === undefined || pos > at * 8) return 'damaged (restart markers out of place)'
      pos = at * 8
      pred.fill(0)
    }
    if (pos > limitBits) return 'damaged or truncated'
    const ux = u % across
    const uy = (u - ux) / across
    for (let m = 0; m < members.length; m++) {
      const { plane, stride, h, v, table } = members[m]!
      for (let by = 0; by < v; by++) {
        for (let bx = 0; bx < h; bx++) {
          const index = (uy * v + by) * stride + ux * h + bx
          const word = (view.getUint32(pos >>> 3) << (pos & 7)) >>> 0
          if (ah !== 0) {
            if (word >>> 31) plane[index]! |= 1 << al
            pos += 1
            continue
          }
          const e = table![word >>> 16]!
          if (e === 0) return 'damaged (invalid Huffman code)'
          pos += e >> 8
          const s = e & 15
          if (s > 0) {
            const bits = ((view.getUint32(pos >>> 3) << (pos & 7)) >>> 0) >>> (32 - s)
            pred[m]! += bits < 1 << (s - 1) ? bits - (1 << s) + 1 : bits
            pos += s
          }
          plane[index] = pred[m]! * (1 << al)
        }
      }
    }
  }
  return pos > limitBits ? 'damaged or truncated' : null
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
