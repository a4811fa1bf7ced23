import { promises as fsp } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { uniformFrom } from '../../src/main/trainer/model/rng'
import { readJson, writeJsonAtomic } from '../../src/main/util/fs'

/**
 * Procedural datasets for `--quality`, made here so they are free of anyone's licence and the
 * same on every machine (deterministic from a seed):
 * - `sprites`: 32 px palette sprites with transparency — left-right symmetric creatures and
 *   objects grown on a half grid, 3–5 colours from a random palette, a dark outline, shading,
 *   sometimes eyes, on a transparent background.
 * - `illustrations`: 64 px colourful pictures with transparency — a shape (disc, rounded square,
 *   star, heart, drop) filled with a two-colour gradient, an outline, a highlight and a face or
 *   stripes, over either transparency or a soft coloured backdrop.
 *
 *   tsx tools/bench/make-dataset.ts <sprites|illustrations> <outDir> [--count N] [--seed S]
 */

export type DatasetKind = 'sprites' | 'illustrations'
export const DATASET_RESOLUTION: Record<DatasetKind, number> = { sprites: 32, illustrations: 64 }
const GENERATOR_VERSION = 2

type Rand = () => number
type RGB = [number, number, number]

function hsl(h: number, s: number, l: number): RGB {
  const f = (n: number) => {
    const k = (n + h * 12) % 12
    const a = s * Math.min(l, 1 - l)
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))))
  }
  return [f(0), f(8), f(4)]
}

const clamp = (x: number, lo = 0, hi = 255) => (x < lo ? lo : x > hi ? hi : x)

/** One 32×32 RGBA sprite. */
export function sprite(rand: Rand): Uint8Array {
  const S = 32
  const half = S / 2
  const mask = new Uint8Array(S * S)
  // Grow a blob on the left half from the centre line by random walks, then mirror it.
  const top = 3 + Math.floor(rand() * 6)
  const bottom = S - 3 - Math.floor(rand() * 6)
  const width = 5 + rand() * 9
  const walkers = 3 + Math.floor(rand() * 4)
  for (let w = 0; w < walkers; w++) {
    let x = half - 1 - Math.floor(rand() * 3)
    let y = top + Math.floor(rand() * (bottom - top))
    const steps = 40 + Math.floor(rand() * 80)
    for (let k = 0; k < steps; k++) {
      if (x >= 1 && x < half && y >= 1 && y < S - 1) mask[y * S + x] = 1
      const r = rand()
      if (r < 0.3) x -= 1
      else if (r < 0.45) x += 1
      else if (r < 0.72) y -= 1
      else y += 1
      if (half - x > width) x += 1
      if (y < top) y = top
      if (y > bottom) y = bottom
    }
  }
  // A solid core so every sprite has a body.
  const cy = (top + bottom) / 2
  const ry = (bottom - top) / 2.6
  const rx = width * 0.55
  for (let y = 0; y < S; y++) for (let x = 1; x < half; x++) if (((x + 0.5 - half) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1) mask[y * S + x] = 1
  for (let y = 0; y < S; y++) for (let x = 0; x < half; x++) mask[y * S + (S - 1 - x)] = mask[y * S + x]!
  // Palette: base, shade, highlight, outline, accent.
  const hue = rand()
  const base = hsl(hue, 0.55 + rand() * 0.4, 0.45 + rand() * 0.15)
  const shade = hsl(hue + 0.03, 0.6, 0.28)
  const light = hsl(hue - 0.02, 0.7, 0.72)
  const outline = hsl(hue, 0.4, 0.1)
  const accent = hsl(hue + 0.35 + rand() * 0.3, 0.8, 0.55)
  const stripes = rand() < 0.4
  const out = new Uint8Array(S * S * 4)
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < S && y < S && mask[y * S + x] === 1
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const o = (y * S + x) * 4
      let c: RGB | null = null
      if (inside(x, y)) {
        const edge = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1)
        if (edge) c = outline
        else if (!inside(x, y - 2) || !inside(x - 2, y)) c = light
        else if (!inside(x, y + 2) || !inside(x + 2, y)) c = shade
        else if (stripes && Math.floor(y / 3) % 2 === 0) c = accent
        else c = base
      }
      if (c) {
        out[o] = c[0]
        out[o + 1] = c[1]
        out[o + 2] = c[2]
        out[o + 3] = 255
      }
    }
  // Eyes: two pixels of white with a dark pupil, where the body is wide enough.
  if (rand() < 0.7) {
    const ey = Math.round(top + (bottom - top) * (0.3 + rand() * 0.15))
    const dx = 2 + Math.floor(rand() * 3)
    for (const ex of [half - 1 - dx, half + dx]) {
      if (!inside(ex, ey) || !inside(ex, ey + 1)) continue
      const o = (ey * S + ex) * 4
      out.set([255, 255, 255, 255], o)
      out.set([20, 20, 30, 255], o + S * 4)
    }
  }
  return out
}

type Shape = (x: number, y: number) => number

/** Signed distance-like functions on [-1, 1]², negative inside. */
function shapeFor(rand: Rand): Shape {
  const kind = Math.floor(rand() * 5)
  const r = 0.6 + rand() * 0.25
  switch (kind) {
    case 0:
      return (x, y) => Math.hypot(x, y) - r
    case 1: {
      const round = 0.15 + rand() * 0.25
      return (x, y) => {
        const qx = Math.abs(x) - (r - round)
        const qy = Math.abs(y) - (r - round)
        return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - round
      }
    }
    case 2: {
      const points = 5 + Math.floor(rand() * 3)
      const depth = 0.35 + rand() * 0.2
      return (x, y) => {
        const a = Math.atan2(y, x)
        const k = 0.5 + 0.5 * Math.cos(a * points)
        return Math.hypot(x, y) - r * (1 - depth + depth * k)
      }
    }
    case 3:
      // A heart: two discs over a square standing on its corner.
      return (x, y) =>
        Math.min(Math.hypot(x + 0.3, y + 0.2) - 0.38 * r * 1.4, Math.hypot(x - 0.3, y + 0.2) - 0.38 * r * 1.4, (Math.abs(x) + Math.abs(y - 0.12) - 0.62 * r * 1.3) * Math.SQRT1_2)
    default:
      return (x, y) => {
        const d = Math.hypot(x, y + 0.15) - r * 0.8
        return y < -0.15 ? Math.max(d, Math.abs(x) - (y + 1) * 0.6) : d
      }
  }
}

/** One 64×64 RGBA illustration. */
export function illustration(rand: Rand): Uint8Array {
  const S = 64
  const shape = shapeFor(rand)
  const hue = rand()
  const c1 = hsl(hue, 0.75 + rand() * 0.2, 0.55 + rand() * 0.1)
  const c2 = hsl(hue + 0.08 + rand() * 0.1, 0.8, 0.35 + rand() * 0.15)
  const ink = hsl(hue + 0.5, 0.5, 0.12)
  const backdrop = rand() < 0.35 ? hsl(hue + 0.5 + rand() * 0.2, 0.45, 0.85) : null
  const face = rand() < 0.55
  const stripes = !face && rand() < 0.5
  const stripeHue = hsl(hue + 0.3, 0.85, 0.6)
  const angle = rand() * Math.PI
  const scale = 0.75 + rand() * 0.2
  const ox = (rand() - 0.5) * 0.2
  const oy = (rand() - 0.5) * 0.2
  const out = new Uint8Array(S * S * 4)
  for (let py = 0; py < S; py++)
    for (let px = 0; px < S; px++) {
      const x = ((px + 0.5) / S) * 2 - 1
      const y = ((py + 0.5) / S) * 2 - 1
      const sx = (x - ox) / scale
      const sy = (y - oy) / scale
      const d = shape(sx, sy)
      const o = (py * S + px) * 4
      let rgb: RGB | null = backdrop
      let alpha = backdrop ? 255 : 0
      if (d < 0.04) {
        const t = clamp((sy + 1) / 2, 0, 1)
        let c: RGB = [c1[0] * (1 - t) + c2[0] * t, c1[1] * (1 - t) + c2[1] * t, c1[2] * (1 - t) + c2[2] * t]
        if (stripes && Math.floor((sx * Math.cos(angle) + sy * Math.sin(angle)) * 5 + 10) % 2 === 0) c = stripeHue
        const hl = Math.hypot(sx + 0.3, sy + 0.35)
        if (hl < 0.18) c = [c[0] + (255 - c[0]) * 0.7, c[1] + (255 - c[1]) * 0.7, c[2] + (255 - c[2]) * 0.7]
        if (face) {
          const eye = Math.min(Math.hypot(sx + 0.25, sy + 0.1), Math.hypot(sx - 0.25, sy + 0.1))
          const mouth = Math.abs(Math.hypot(sx, sy - 0.05) - 0.35)
          if (eye < 0.09 || (mouth < 0.045 && sy > 0.18)) c = ink
        }
        if (d > -0.04) c = ink
        rgb = c
        // Soft edge: partial coverage on the outermost ring.
        alpha = d > 0 ? Math.round(255 * (1 - d / 0.04)) : 255
        if (backdrop) alpha = 255
      }
      if (rgb) {
        out[o] = clamp(Math.round(rgb[0]))
        out[o + 1] = clamp(Math.round(rgb[1]))
        out[o + 2] = clamp(Math.round(rgb[2]))
        out[o + 3] = alpha
      }
    }
  return out
}

interface Manifest {
  kind: DatasetKind
  count: number
  seed: number
  version: number
}

/** Writes `count` PNGs of `kind` into `dir` (kept when a matching set is already there). */
export async function makeDataset(kind: DatasetKind, dir: string, count: number, seed = 1): Promise<{ dir: string; count: number; resolution: number }> {
  const resolution = DATASET_RESOLUTION[kind]
  const manifest = await readJson<Manifest>(join(dir, '.dataset.json')).catch(() => null)
  if (manifest && manifest.kind === kind && manifest.count === count && manifest.seed === seed && manifest.version === GENERATOR_VERSION) return { dir, count, resolution }
  await fsp.rm(dir, { recursive: true, force: true })
  await fsp.mkdir(dir, { recursive: true })
  const draw = kind === 'sprites' ? sprite : illustration
  for (let i = 0; i < count; i++) {
    const rand = uniformFrom((seed * 1_000_003 + i * 7919) >>> 0)
    const rgba = draw(rand)
    await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width: resolution, height: resolution, channels: 4 } })
      .png()
      .toFile(join(dir, `${kind.slice(0, -1)}-${String(i).padStart(4, '0')}.png`))
  }
  await writeJsonAtomic(join(dir, '.dataset.json'), { kind, count, seed, version: GENERATOR_VERSION } satisfies Manifest)
  return { dir, count, resolution }
}

async function cli(argv: string[]): Promise<number> {
  const { parseArgs } = await import('node:util')
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { count: { type: 'string' }, seed: { type: 'string' } } })
  } catch (err) {
    process.stderr.write(`make-dataset: ${(err as Error).message.split('\n')[0]}\n`)
    return 2
  }
  const [kind, dir] = parsed.positionals
  const count = Number(parsed.values.count ?? 256)
  const seed = Number(parsed.values.seed ?? 1)
  if ((kind !== 'sprites' && kind !== 'illustrations') || !dir || !Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || seed < 0) {
    process.stderr.write('Usage: tsx tools/bench/make-dataset.ts <sprites|illustrations> <outDir> [--count N] [--seed S]\n')
    return 2
  }
  const r = await makeDataset(kind, dir, count, seed)
  process.stdout.write(`${r.count} ${kind} (${r.resolution} px) in ${r.dir}\n`)
  return 0
}

/** Run as a script (not imported by the bench). */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then((code) => process.exit(code))
}
