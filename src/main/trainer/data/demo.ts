import { promises as fsp } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { StudioError } from '@shared/errors'
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../util/fs'
import { renderLandscape } from './procedural'
import { uniformFrom } from '../model/rng'

/**
 * The embedded default dataset: small procedural landscapes (sky gradient, sun or moon, layered
 * hills, stars at night; six palettes with per-image jitter), drawn by this code from a fixed
 * seed. Nobody's artwork, nothing downloaded: licence-clean by construction (MIT, like the code).
 * 64×64 PNGs, so the demo works at 32 and 64 px.
 */
export const DEMO_SEED = 20240601
export const DEMO_SIZE = 64
const GENERATOR = 'landscapes-v1'
const MANIFEST = '.gan-studio-demo.json'

interface DemoManifest {
  generator: string
  seed: number
  size: number
  count: number
  files: string[]
}

/**
 * Writes `count` demo images into `dir` (created if needed) and returns its absolute path.
 * Deterministic: the same count gives the same bytes. When `dir` already holds this exact set
 * (a hidden manifest says so and every file is there), nothing is rewritten, so file mtimes stay
 * and the dataset cache built from them keeps being reused.
 */
export async function writeDemoDataset(dir: string, count = 200): Promise<string> {
  if (!Number.isInteger(count) || count < 1 || count > 100_000)
    throw new StudioError('bad-input', 'The demo dataset size must be a whole number from 1 to 100000.')
  const abs = resolve(dir)
  const files = Array.from({ length: count }, (_, i) => `landscape-${String(i).padStart(4, '0')}.png`)
  const wanted: DemoManifest = { generator: GENERATOR, seed: DEMO_SEED, size: DEMO_SIZE, count, files }

  const existing = await readJson<DemoManifest>(join(abs, MANIFEST)).catch(() => null)
  if (existing && existing.generator === GENERATOR && existing.seed === DEMO_SEED && existing.size === DEMO_SIZE && existing.count === count) {
    const present = await Promise.all(files.map((f) => fsp.stat(join(abs, f)).then((s) => s.size > 0, () => false)))
    if (present.every(Boolean)) return abs
  }

  await fsp.mkdir(abs, { recursive: true })
  // Images from an earlier, different demo set would mix in: remove our own old files only.
  for (const name of await fsp.readdir(abs)) {
    if (/^landscape-\d{4}\.png$/.test(name) && !files.includes(name)) await fsp.rm(join(abs, name), { force: true })
  }
  const batch = 8
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      files.slice(start, start + batch).map(async (name, k) => {
        const pixels = renderDemoImage(start + k)
        const png = await sharp(pixels, { raw: { width: DEMO_SIZE, height: DEMO_SIZE, channels: 3 } })
          .png({ compressionLevel: 9 })
          .toBuffer()
        await writeFileAtomic(join(abs, name), png)
      })
    )
  }
  await writeJsonAtomic(join(abs, MANIFEST), wanted)
  return abs
}

/** The raw RGB pixels of demo image `index` (64×64×3): a pure function of the index. */
export function renderDemoImage(index: number): Uint8Array {
  return renderLandscape(DEMO_SIZE, DEMO_SIZE, uniformFrom(DEMO_SEED + index * 7919))
}
