/**
 * Procedural pictures, deterministic from a seed: the embedded demo dataset and the import
 * benchmark's photos are drawn here, so neither needs a download or anyone's artwork.
 */

type Rgb = readonly [number, number, number]

interface Palette {
  name: string
  skyTop: Rgb
  skyBottom: Rgb
  sun: Rgb
  /** Far to near. */
  hills: readonly Rgb[]
  stars: boolean
}

const PALETTES: readonly Palette[] = [
  { name: 'day', skyTop: [70, 130, 220], skyBottom: [190, 225, 250], sun: [255, 245, 200], hills: [[120, 160, 120], [70, 130, 70], [35, 90, 45]], stars: false },
  { name: 'sunset', skyTop: [60, 40, 110], skyBottom: [250, 150, 80], sun: [255, 220, 120], hills: [[130, 70, 90], [80, 40, 70], [35, 20, 45]], stars: false },
  { name: 'night', skyTop: [8, 12, 40], skyBottom: [40, 55, 110], sun: [235, 235, 220], hills: [[35, 45, 80], [22, 30, 55], [10, 14, 30]], stars: true },
  { name: 'desert', skyTop: [100, 170, 230], skyBottom: [240, 220, 180], sun: [255, 255, 235], hills: [[230, 180, 120], [210, 140, 80], [170, 100, 55]], stars: false },
  { name: 'arctic', skyTop: [150, 190, 230], skyBottom: [235, 245, 250], sun: [255, 250, 240], hills: [[200, 215, 235], [160, 185, 215], [110, 140, 180]], stars: false },
  { name: 'autumn', skyTop: [120, 150, 190], skyBottom: [240, 210, 170], sun: [255, 235, 190], hills: [[200, 120, 60], [160, 70, 40], [90, 40, 30]], stars: false }
]

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v)
const smoothstep = (e0: number, e1: number, x: number): number => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)))
  return t * t * (3 - 2 * t)
}

/**
 * A small landscape: a sky gradient, a sun or moon, two or three layered hill ridges (nearer is
 * darker), stars at night. Colours are jittered per image. Structure a GAN learns visibly at 32 px:
 * bright sky above, dark ground below, a round light source, horizontal bands.
 * Returns `width × height × 3` RGB bytes.
 */
export function renderLandscape(width: number, height: number, rng: () => number): Uint8Array {
  const pal = PALETTES[Math.floor(rng() * PALETTES.length)]!
  const jitter = (c: Rgb, amount = 18): Rgb => [
    clamp255(c[0] + (rng() - 0.5) * 2 * amount),
    clamp255(c[1] + (rng() - 0.5) * 2 * amount),
    clamp255(c[2] + (rng() - 0.5) * 2 * amount)
  ]
  const skyTop = jitter(pal.skyTop)
  const skyBottom = jitter(pal.skyBottom)
  const sun = jitter(pal.sun, 8)
  const sunX = (0.15 + rng() * 0.7) * width
  const sunY = (0.12 + rng() * 0.3) * height
  const sunR = (0.06 + rng() * 0.1) * Math.min(width, height)
  const layers = 2 + Math.floor(rng() * 2)
  const ridges = Array.from({ length: layers }, (_, k) => {
    const base = 0.45 + (k / layers) * 0.35 + rng() * 0.08
    return {
      colour: jitter(pal.hills[Math.min(pal.hills.length - 1, k + (3 - layers))]!, 14),
      base,
      amp: 0.05 + rng() * 0.1,
      f1: 0.5 + rng() * 2.5,
      f2: 2 + rng() * 5,
      p1: rng() * Math.PI * 2,
      p2: rng() * Math.PI * 2
    }
  })
  const stars = pal.stars ? Array.from({ length: 6 + Math.floor(rng() * 10) }, () => [rng() * width, rng() * height * 0.5] as const) : []
  const out = new Uint8Array(width * height * 3)
  const px = 1 / Math.min(width, height)
  for (let y = 0; y < height; y++) {
    const v = y / height
    for (let x = 0; x < width; x++) {
      const u = x / width
      let r = skyTop[0] + (skyBottom[0] - skyTop[0]) * v
      let g = skyTop[1] + (skyBottom[1] - skyTop[1]) * v
      let b = skyTop[2] + (skyBottom[2] - skyTop[2]) * v
      for (const [sx, sy] of stars) {
        const d = Math.hypot(x - sx, y - sy)
        if (d < 1.2) {
          const a = 1 - d / 1.2
          r += (255 - r) * a
          g += (255 - g) * a
          b += (240 - b) * a
        }
      }
      const halo = Math.max(0, 1 - Math.hypot(x - sunX, y - sunY) / (sunR * 3)) * 0.35
      r += (sun[0] - r) * halo
      g += (sun[1] - g) * halo
      b += (sun[2] - b) * halo
      const disc = 1 - smoothstep(sunR - 1, sunR + 1, Math.hypot(x - sunX, y - sunY))
      r += (sun[0] - r) * disc
      g += (sun[1] - g) * disc
      b += (sun[2] - b) * disc
      for (const ridge of ridges) {
        const top = ridge.base - ridge.amp * (Math.sin(u * ridge.f1 * Math.PI * 2 + ridge.p1) * 0.7 + Math.sin(u * ridge.f2 * Math.PI * 2 + ridge.p2) * 0.3)
        const cover = smoothstep(top - px, top + px, v)
        if (cover > 0) {
          const shade = 1 - (v - top) * 0.6
          r += (ridge.colour[0] * shade - r) * cover
          g += (ridge.colour[1] * shade - g) * cover
          b += (ridge.colour[2] * shade - b) * cover
        }
      }
      const i = (y * width + x) * 3
      out[i] = clamp255(Math.round(r))
      out[i + 1] = clamp255(Math.round(g))
      out[i + 2] = clamp255(Math.round(b))
    }
  }
  return out
}

/**
 * Smooth multi-octave value noise in [-1, 1], for photographic texture in the benchmark images.
 * `cells` is the coarsest lattice size.
 */
export function valueNoise(width: number, height: number, rng: () => number, cells = 8, octaves = 4): Float32Array {
  const out = new Float32Array(width * height)
  let amp = 1
  let total = 0
  for (let o = 0; o < octaves; o++) {
    const gx = cells << o
    const gy = Math.max(1, Math.round((gx * height) / width))
    const grid = new Float32Array((gx + 1) * (gy + 1)).map(() => rng() * 2 - 1)
    for (let y = 0; y < height; y++) {
      const fy = (y / height) * gy
      const y0 = Math.floor(fy)
      const ty = fy - y0
      const sy = ty * ty * (3 - 2 * ty)
      for (let x = 0; x < width; x++) {
        const fx = (x / width) * gx
        const x0 = Math.floor(fx)
        const tx = fx - x0
        const sx = tx * tx * (3 - 2 * tx)
        const a = grid[y0 * (gx + 1) + x0]!
        const b = grid[y0 * (gx + 1) + x0 + 1]!
        const c = grid[(y0 + 1) * (gx + 1) + x0]!
        const d = grid[(y0 + 1) * (gx + 1) + x0 + 1]!
        out[y * width + x] += amp * (a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy)
      }
    }
    total += amp
    amp *= 0.5
  }
  for (let i = 0; i < out.length; i++) out[i] /= total
  return out
}
