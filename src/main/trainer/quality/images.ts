/**
 * Image sets for the quality measures: `count` square RGB images, NHWC, as float32 in [-1, 1]
 * (what the generator produces). Pure TypeScript: no tfjs, so the studio's main process and the
 * CLI can use it too.
 */
export interface ImageSet {
  data: Float32Array
  count: number
  resolution: number
}

/** uint8 pixels (the dataset cache) → [-1, 1]; `indices` picks images (default all). */
export function fromUint8(pixels: Uint8Array, count: number, resolution: number, indices?: ArrayLike<number>): ImageSet {
  const size = resolution * resolution * 3
  const n = indices ? indices.length : count
  const data = new Float32Array(n * size)
  for (let i = 0; i < n; i++) {
    const src = (indices ? indices[i]! : i) * size
    const dst = i * size
    for (let k = 0; k < size; k++) data[dst + k] = pixels[src + k]! / 127.5 - 1
  }
  return { data, count: n, resolution }
}

/** One image of a set (a view, not a copy). */
export function imageOf(set: ImageSet, i: number): Float32Array {
  const size = set.resolution * set.resolution * 3
  return set.data.subarray(i * size, (i + 1) * size)
}

/**
 * Box-filter (area) downscale of every image to `size` × `size` (`resolution` must be a multiple
 * of `size`); `size` equal to the resolution returns a copy.
 */
export function downscale(set: ImageSet, size: number): ImageSet {
  const r = set.resolution
  if (r % size !== 0) throw new Error(`cannot downscale ${r} px to ${size} px`)
  const f = r / size
  const inv = 1 / (f * f)
  const out = new Float32Array(set.count * size * size * 3)
  for (let n = 0; n < set.count; n++) {
    const src = n * r * r * 3
    const dst = n * size * size * 3
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let a = 0
        let b = 0
        let c = 0
        for (let dy = 0; dy < f; dy++) {
          let p = src + ((y * f + dy) * r + x * f) * 3
          for (let dx = 0; dx < f; dx++, p += 3) {
            a += set.data[p]!
            b += set.data[p + 1]!
            c += set.data[p + 2]!
          }
        }
        const q = dst + (y * size + x) * 3
        out[q] = a * inv
        out[q + 1] = b * inv
        out[q + 2] = c * inv
      }
    }
  }
  return { data: out, count: set.count, resolution: size }
}

/** Every image mirrored left–right. */
export function mirrored(set: ImageSet): ImageSet {
  const r = set.resolution
  const out = new Float32Array(set.data.length)
  for (let n = 0; n < set.count; n++) {
    const base = n * r * r * 3
    for (let y = 0; y < r; y++) {
      for (let x = 0; x < r; x++) {
        const s = base + (y * r + x) * 3
        const d = base + (y * r + (r - 1 - x)) * 3
        out[d] = set.data[s]!
        out[d + 1] = set.data[s + 1]!
        out[d + 2] = set.data[s + 2]!
      }
    }
  }
  return { data: out, count: set.count, resolution: r }
}
