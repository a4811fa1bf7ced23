/**
 * JPEG writers for tests, for what sharp (mozjpeg) cannot be asked to write: a DC-only writer
 * (each 8×8 block flat at a chosen level) with restart intervals and progressive DC scans of every
 * kind, and `withRestarts`, which re-codes a baseline JPEG's entropy data losslessly with a
 * restart interval (as `jpegtran -restart` does).
 */

// ── A DC-only baseline JPEG writer: each 8×8 block flat at a chosen level ─────────────────────

/** Huffman tables small enough to write by hand: DC categories 0–11 as 4-bit codes, AC only end-of-block ("0"). */
const DC_COUNTS = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
const AC_COUNTS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

class BitWriter {
  bytes: number[] = []
  private acc = 0
  private n = 0
  put(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >> b) & 1)
      if (++this.n === 8) this.flushByte()
    }
  }
  /** Pads to a byte with 1 bits (as JPEG requires before a marker). */
  align(): void {
    while (this.n !== 0) this.put(1, 1)
  }
  private flushByte(): void {
    this.bytes.push(this.acc)
    if (this.acc === 0xff) this.bytes.push(0) // byte stuffing
    this.acc = 0
    this.n = 0
  }
}

export interface WriterOptions {
  /** MCUs (or, in a one-component scan, blocks) per restart interval; 0: none. */
  restartInterval?: number
  /** Leaves out this restart marker of the first scan (a damaged file). */
  dropRestart?: number
  /**
   * Progressive: the DC first pass keeps all but the low `al` bits, refinement scans add them one
   * by one, then an AC scan per component (all end-of-block). `interleaved`: one DC scan for
   * all components, or one per component.
   */
  progressive?: { al: number; interleaved: boolean }
}

/**
 * A greyscale (levels.length === 1) or 4:2:0 YCbCr JPEG whose blocks are flat: block (bx, by)
 * of component c has level levels[c](bx, by). Quantisation is 8, so DC = level − 128 exactly.
 */
export function dcOnlyJpeg(width: number, height: number, levels: ((bx: number, by: number) => number)[], options: WriterOptions = {}): Buffer {
  const { restartInterval = 0, dropRestart = -1, progressive } = options
  const colour = levels.length === 3
  const sampling = colour ? [[2, 2], [1, 1], [1, 1]] : [[1, 1]]
  const hmax = colour ? 2 : 1
  const mcuX = Math.ceil(width / (8 * hmax))
  const mcuY = Math.ceil(height / (8 * hmax))
  const out: number[] = [0xff, 0xd8]
  const segment = (marker: number, body: number[]): void => {
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body)
  }
  segment(0xdb, [0, ...new Array(64).fill(8)])
  segment(progressive ? 0xc2 : 0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, levels.length, ...sampling.flatMap(([h, v], c) => [c + 1, (h! << 4) | v!, 0])])
  segment(0xc4, [0x00, ...DC_COUNTS, ...Array.from({ length: 12 }, (_, i) => i)])
  segment(0xc4, [0x10, ...AC_COUNTS, 0x00])
  if (restartInterval > 0) segment(0xdd, [restartInterval >> 8, restartInterval & 255])

  const dcOf = (c: number, bx: number, by: number): number => levels[c]!(bx, by) - 128
  /** One scan over `members` (component indexes); `block` codes one block. */
  const scan = (members: number[], ss: number, se: number, ah: number, al: number, block: (bits: BitWriter, c: number, bx: number, by: number, pred: number[]) => void, drop = -1): void => {
    segment(0xda, [members.length, ...members.flatMap((c) => [c + 1, 0x00]), ss, se, (ah << 4) | al])
    const alone = members.length === 1
    const c0 = members[0]!
    const across = alone ? Math.ceil(Math.ceil((width * sampling[c0]![0]!) / hmax) / 8) : mcuX
    const down = alone ? Math.ceil(Math.ceil((height * sampling[c0]![1]!) / hmax) / 8) : mcuY
    const bits = new BitWriter()
    const pred = new Array(levels.length).fill(0)
    let marker = 0
    for (let u = 0; u < across * down; u++) {
      if (restartInterval > 0 && u > 0 && u % restartInterval === 0) {
        bits.align()
        if (marker !== drop) bits.bytes.push(0xff, 0xd0 + (marker % 8))
        marker++
        pred.fill(0)
      }
      const ux = u % across
      const uy = Math.floor(u / across)
      for (const c of members) {
        const [h, v] = alone ? [1, 1] : sampling[c]!
        for (let y = 0; y < v!; y++) for (let x = 0; x < h!; x++) block(bits, c, ux * h! + x, uy * v! + y, pred)
      }
    }
    bits.align()
    out.push(...bits.bytes)
  }
  const dcFirst = (al: number) => (bits: BitWriter, c: number, bx: number, by: number, pred: number[]): void => {
    const dc = dcOf(c, bx, by) >> al
    const diff = dc - pred[c]!
    pred[c] = dc
    const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1
    bits.put(size, 4)
    if (size > 0) bits.put(diff > 0 ? diff : diff + (1 << size) - 1, size)
  }
  const all = levels.map((_, c) => c)
  if (!progressive) {
    scan(all, 0, 63, 0, 0, (bits, c, bx, by, pred) => {
      dcFirst(0)(bits, c, bx, by, pred)
      bits.put(0, 1) // end of block
    }, dropRestart)
  } else {
    const { al, interleaved } = progressive
    const groups = interleaved ? [all] : all.map((c) => [c])
    groups.forEach((g, i) => scan(g, 0, 0, 0, al, dcFirst(al), i === 0 ? dropRestart : -1))
    for (let bit = al - 1; bit >= 0; bit--) {
      for (const g of groups) scan(g, 0, 0, bit + 1, bit, (bits, c, bx, by) => bits.put((dcOf(c, bx, by) >> bit) & 1, 1))
    }
    for (const c of all) scan([c], 1, 63, 0, 0, (bits) => bits.put(0, 1)) // EOB: no AC coefficients
  }
  out.push(0xff, 0xd9)
  return Buffer.from(out)
}

// ── Restart intervals for a baseline JPEG, re-coded losslessly ───────────────────────────────

interface Code {
  /** code → symbol, per length. */
  decode: Map<number, number>[]
  /** symbol → [code, length]. */
  encode: Map<number, [number, number]>
}

function huffmanCode(counts: Uint8Array, symbols: Uint8Array): Code {
  const decode: Map<number, number>[] = Array.from({ length: 17 }, () => new Map())
  const encode = new Map<number, [number, number]>()
  let code = 0
  let k = 0
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]!; i++) {
      decode[len]!.set(code, symbols[k]!)
      encode.set(symbols[k]!, [code, len])
      k++
      code++
    }
    code <<= 1
  }
  return { decode, encode }
}

class BitReader {
  private pos = 0
  constructor(private readonly data: number[]) {}
  bit(): number {
    const byte = this.data[this.pos >> 3] ?? 0
    const b = (byte >> (7 - (this.pos & 7))) & 1
    this.pos++
    return b
  }
  bits(n: number): number {
    let v = 0
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit()
    return v
  }
  symbol(code: Code): number {
    let c = 0
    for (let len = 1; len <= 16; len++) {
      c = (c << 1) | this.bit()
      const s = code.decode[len]!.get(c)
      if (s !== undefined) return s
    }
    throw new Error('invalid Huffman code in the source JPEG')
  }
}

/**
 * The same baseline (sequential, one interleaved scan, Huffman) JPEG with a restart marker every
 * `interval` MCUs: every block's coefficients are kept, DC predictions restart after each marker.
 * The source needs DC tables with every size category (sharp: `optimiseCoding: false`).
 */
export function withRestarts(jpeg: Uint8Array, interval: number): Buffer {
  const tables = new Map<number, Code>() // (class << 4 | id) → code
  let comps: { id: number; h: number; v: number }[] = []
  let imageW = 0
  let imageH = 0
  let i = 2
  const head: number[] = [0xff, 0xd8]
  let sosAt = -1
  while (i < jpeg.length) {
    const m = jpeg[i + 1]!
    const len = (jpeg[i + 2]! << 8) | jpeg[i + 3]!
    if (m === 0xda) {
      sosAt = i
      break
    }
    if (m === 0xc4) {
      let p = i + 4
      while (p < i + 2 + len) {
        const counts = jpeg.subarray(p + 1, p + 17)
        const total = counts.reduce((a, b) => a + b, 0)
        tables.set(jpeg[p]!, huffmanCode(counts, jpeg.subarray(p + 17, p + 17 + total)))
        p += 17 + total
      }
    }
    if (m === 0xc0 || m === 0xc1) {
      imageH = (jpeg[i + 5]! << 8) | jpeg[i + 6]!
      imageW = (jpeg[i + 7]! << 8) | jpeg[i + 8]!
      const n = jpeg[i + 9]!
      comps = Array.from({ length: n }, (_, c) => ({ id: jpeg[i + 10 + c * 3]!, h: jpeg[i + 11 + c * 3]! >> 4, v: jpeg[i + 11 + c * 3]! & 15 }))
    }
    if (m === 0xc2) throw new Error('withRestarts takes baseline JPEGs only')
    if (m !== 0xdd) head.push(...jpeg.subarray(i, i + 2 + len))
    i += 2 + len
  }
  const sosLen = (jpeg[sosAt + 2]! << 8) | jpeg[sosAt + 3]!
  const ns = jpeg[sosAt + 4]!
  const selectors = new Map<number, { dc: number; ac: number }>()
  for (let c = 0; c < ns; c++) selectors.set(jpeg[sosAt + 5 + c * 2]!, { dc: jpeg[sosAt + 6 + c * 2]! >> 4, ac: jpeg[sosAt + 6 + c * 2]! & 15 })
  // Entropy data without stuffing, up to the next marker.
  const data: number[] = []
  let p = sosAt + 2 + sosLen
  for (; p < jpeg.length; p++) {
    if (jpeg[p] === 0xff) {
      if (jpeg[p + 1] === 0) {
        data.push(0xff)
        p++
        continue
      }
      if (jpeg[p + 1]! >= 0xd0 && jpeg[p + 1]! <= 0xd7) throw new Error('the source JPEG already has restart markers')
      break
    }
    data.push(jpeg[p]!)
  }
  const hmax = Math.max(...comps.map((c) => c.h))
  const vmax = Math.max(...comps.map((c) => c.v))
  const single = comps.length === 1
  const mcuX = single ? Math.ceil(imageW / 8) : Math.ceil(imageW / (8 * hmax))
  const mcuY = single ? Math.ceil(imageH / 8) : Math.ceil(imageH / (8 * vmax))

  const reader = new BitReader(data)
  const out = new BitWriter()
  const predIn = comps.map(() => 0)
  const predOut = comps.map(() => 0)
  let marker = 0
  for (let u = 0; u < mcuX * mcuY; u++) {
    if (u > 0 && u % interval === 0) {
      out.align()
      out.bytes.push(0xff, 0xd0 + (marker++ % 8))
      predOut.fill(0)
    }
    comps.forEach((comp, ci) => {
      const sel = selectors.get(comp.id)!
      const dcCode = tables.get(sel.dc)!
      const acCode = tables.get(0x10 | sel.ac)!
      const blocks = single ? 1 : comp.h * comp.v
      for (let b = 0; b < blocks; b++) {
        const s = reader.symbol(dcCode)
        const raw = s > 0 ? reader.bits(s) : 0
        const diff = s === 0 ? 0 : raw < 1 << (s - 1) ? raw - (1 << s) + 1 : raw
        const dc = predIn[ci]! + diff
        predIn[ci] = dc
        const outDiff = dc - predOut[ci]!
        predOut[ci] = dc
        const size = outDiff === 0 ? 0 : Math.floor(Math.log2(Math.abs(outDiff))) + 1
        const dcSymbol = dcCode.encode.get(size)
        if (!dcSymbol) throw new Error('the source JPEG has optimised DC tables; write it with optimiseCoding: false')
        out.put(...dcSymbol)
        if (size > 0) out.put(outDiff > 0 ? outDiff : outDiff + (1 << size) - 1, size)
        for (let k = 1; k < 64; ) {
          const rs = reader.symbol(acCode)
          out.put(...acCode.encode.get(rs)!)
          const r = rs >> 4
          const sz = rs & 15
          if (sz === 0) {
            if (r === 15) {
              k += 16
              continue
            }
            break
          }
          k += r
          out.put(reader.bits(sz), sz)
          k++
        }
      }
    })
  }
  out.align()
  const dri = [0xff, 0xdd, 0, 4, interval >> 8, interval & 255]
  return Buffer.from([...head, ...dri, ...jpeg.subarray(sosAt, sosAt + 2 + sosLen), ...out.bytes, 0xff, 0xd9])
}
