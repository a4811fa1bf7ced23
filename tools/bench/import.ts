import { spawn } from 'node:child_process'
import { existsSync, promises as fsp } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { importDataset } from '../../src/main/trainer/data/dataset'
import { decodeThreads } from '../../src/main/util/threadpool'
import { renderLandscape, valueNoise } from '../../src/main/trainer/data/procedural'
import { uniformFrom } from '../../src/main/trainer/model/rng'
import { readJson, writeJsonAtomic } from '../../src/main/util/fs'

/**
 * Import speed beside Pillow: decode + resize a folder of large JPEGs to the 64 px
 * cache, with our importer and with `pil_import.py` (beside this file) doing the same work, in the
 * same run, on the same files (already in the page cache for both). Each side runs `repeats`
 * times, alternating, and the best time counts: the machine is shared and noisy.
 */
export interface ImportBenchOptions {
  /** Number of JPEGs (default 1000). */
  count?: number
  /** Where the generated JPEGs are kept between runs (default `<tmp>/gan-studio-bench/import`). */
  workDir?: string
  /** Also time Pillow (default true). */
  pillow?: boolean
  /** Timed runs per side (default 2). */
  repeats?: number
  /** Python with Pillow (default /usr/bin/python3, else python3 on PATH). */
  python?: string
  /** Progress lines (generation can take minutes the first time). */
  log?: (line: string) => void
}

export interface ImportBenchTiming {
  imagesPerSec: number
  seconds: number
  /** CPU time (all threads / processes) per image: less sensitive than wall time to a busy machine. */
  cpuMsPerImage: number
}

export interface ImportBenchResult {
  ours: ImportBenchTiming
  pillow: ImportBenchTiming | null
  /** Why Pillow is missing, or what the figures mean (workers, sizes). */
  note?: string
  images: number
  /** Average JPEG size in MB. */
  averageMB: number
  resolution: 64
  cores: number
  cpu: string
}

const GENERATOR = 'photo-jpegs-v1'
const RESOLUTION = 64
/** Sizes as a camera or phone exports them: landscape, portrait, and a wider 3:2. */
const SIZES: ReadonlyArray<readonly [number, number]> = [[2000, 1500], [2000, 1500], [1500, 2000], [2400, 1600]]

export async function runImportBench(opts: ImportBenchOptions = {}): Promise<ImportBenchResult> {
  const count = opts.count ?? 1000
  const workDir = resolve(opts.workDir ?? join(tmpdir(), 'gan-studio-bench', 'import'))
  const repeats = Math.max(1, opts.repeats ?? 2)
  const log = opts.log ?? (() => undefined)
  const imagesDir = join(workDir, `jpegs-${count}`)

  await ensureBenchJpegs(imagesDir, count, log)
  const files = (await fsp.readdir(imagesDir)).filter((f) => f.endsWith('.jpg'))
  let bytes = 0
  for (const f of files) bytes += (await fsp.readFile(join(imagesDir, f))).byteLength // also warms the page cache

  const python = opts.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')
  const script = findScript('pil_import.py')
  let pillowNote: string | undefined
  // Both sides run the same number of decodes at once: our decode threads, Pillow's pool size.
  const parallel = decodeThreads()
  const ours: Run[] = []
  const pillow: Run[] = []
  for (let r = 0; r < repeats; r++) {
    const datasetsDir = join(workDir, `run-${process.pid}`)
    await fsp.rm(datasetsDir, { recursive: true, force: true })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const ds = await importDataset({ source: imagesDir, preprocess: { resolution: RESOLUTION, crop: 'center', background: '#ffffff' }, datasetsDir })
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    ours.push({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })
    await fsp.rm(datasetsDir, { recursive: true, force: true })
    if (ds.count !== count) throw new Error(`import bench: expected ${count} images, imported ${ds.count}`)
    log(`ours:   ${fmt(count, ours.at(-1)!)}`)

    if (opts.pillow === false || pillowNote) continue
    if (!script) {
      pillowNote = 'Pillow not timed: pil_import.py was not found beside the bench.'
      continue
    }
    const out = join(workDir, `pil-${process.pid}.bin`)
    const res = await runPython(python, [script, '--src', imagesDir, '--out', out, '--res', String(RESOLUTION), '--workers', String(parallel)])
    await fsp.rm(out, { force: true })
    if (!res.ok) {
      pillowNote = `Pillow not timed: ${res.error}`
      continue
    }
    if (res.count !== count) throw new Error(`import bench: Pillow decoded ${res.count} of ${count} images`)
    pillow.push({ seconds: res.seconds, cpuSeconds: res.cpuSeconds })
    log(`pillow: ${fmt(count, pillow.at(-1)!)}`)
  }

  const best = (runs: Run[]): ImportBenchTiming => {
    const seconds = Math.min(...runs.map((r) => r.seconds))
    const cpuSeconds = Math.min(...runs.map((r) => r.cpuSeconds))
    return { seconds, imagesPerSec: count / seconds, cpuMsPerImage: (cpuSeconds * 1000) / count }
  }
  const cores = availableParallelism()
  const note =
    pillowNote ??
    (opts.pillow === false
      ? 'Pillow not timed (pillow: false).'
      : `${count} JPEGs, ~${(bytes / files.length / 1e6).toFixed(1)} MB each, to ${RESOLUTION} px centre crop; best of ${repeats}. ` +
        `Pillow: a pool of ${parallel} processes with JPEG draft mode. Ours: baseline JPEGs decoded at 1/8 scale in the DCT domain (WebAssembly kernels) on ${cores} worker threads, anything else (progressive JPEGs included) through sharp on ${parallel} libuv threads.`)
  return {
    ours: best(ours),
    pillow: pillow.length ? best(pillow) : null,
    note,
    images: count,
    averageMB: bytes / files.length / 1e6,
    resolution: RESOLUTION,
    cores,
    cpu: cpus()[0]?.model ?? 'unknown'
  }
}

interface Run {
  seconds: number
  cpuSeconds: number
}

function fmt(count: number, run: Run): string {
  return `${count} images in ${run.seconds.toFixed(2)} s = ${(count / run.seconds).toFixed(1)} images/s (CPU ${((run.cpuSeconds * 1000) / count).toFixed(1)} ms/image)`
}

interface Manifest {
  generator: string
  count: number
}

/**
 * Generates `count` photo-like JPEGs (about 1 MB each at quality 90): a procedural landscape
 * with cloud/terrain texture, upscaled, plus film grain, so the files have the entropy of real
 * photos (flat colour would decode unrealistically fast). Kept between runs; a manifest says
 * the set is complete.
 */
export async function ensureBenchJpegs(dir: string, count: number, log: (line: string) => void = () => undefined): Promise<void> {
  const manifest = await readJson<Manifest>(join(dir, '.bench.json')).catch(() => null)
  if (manifest?.generator === GENERATOR && manifest.count === count) return
  await fsp.rm(dir, { recursive: true, force: true })
  await fsp.mkdir(dir, { recursive: true })
  log(`generating ${count} large JPEGs in ${dir} (once; this takes a few minutes)…`)
  const grains = new Map<string, Int8Array>()
  const t0 = Date.now()
  const parallel = Math.max(2, availableParallelism())
  let next = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++
        const [w, h] = SIZES[i % SIZES.length]!
        const key = `${w}x${h}`
        if (!grains.has(key)) grains.set(key, grainField(w * (h + GRAIN_SLACK_ROWS) * 3, 0x9a1 + w + h))
        const jpeg = await photoJpeg(i, w, h, grains.get(key)!)
        await fsp.writeFile(join(dir, `photo-${String(i).padStart(5, '0')}.jpg`), jpeg)
        if ((i + 1) % 100 === 0) log(`  ${i + 1}/${count} (${((Date.now() - t0) / 1000).toFixed(0)} s)`)
      }
    })
  )
  await writeJsonAtomic(join(dir, '.bench.json'), { generator: GENERATOR, count } satisfies Manifest)
}

const GRAIN_SLACK_ROWS = 97

/** Film grain: triangular noise in about ±24, shared by all images of one size at a per-image row offset. */
function grainField(length: number, seed: number): Int8Array {
  const out = new Int8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = ((x & 0xff) + ((x >>> 8) & 0xff) - 255) * 0.1
  }
  return out
}

async function photoJpeg(index: number, width: number, height: number, grain: Int8Array): Promise<Buffer> {
  const rng = uniformFrom(0x5eed + index * 104729)
  const w = Math.round(width / 8)
  const h = Math.round(height / 8)
  const base = renderLandscape(w, h, rng)
  const texture = valueNoise(w, h, rng, 6, 5)
  for (let p = 0; p < w * h; p++) {
    const t = texture[p]! * 38
    for (let c = 0; c < 3; c++) {
      const v = base[p * 3 + c]! + t
      base[p * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v
    }
  }
  const pixels = await sharp(base, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer()
  const offset = (index % GRAIN_SLACK_ROWS) * width * 3
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]! + grain[offset + i]!
    pixels[i] = v < 0 ? 0 : v > 255 ? 255 : v
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
}

/** A file beside this one (the Python half of the bench). */
function findScript(name: string): string | null {
  const file = join(dirname(fileURLToPath(import.meta.url)), name)
  return existsSync(file) ? file : null
}

type PythonResult = { ok: true; count: number; seconds: number; cpuSeconds: number; workers: number } | { ok: false; error: string }

function runPython(python: string, args: string[]): Promise<PythonResult> {
  return new Promise((done) => {
    let stdout = ''
    let stderr = ''
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (err) => done({ ok: false, error: `${python} could not be started (${err.message}); install python3 and python3-pil` }))
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? ''
      let parsed: { count?: number; seconds?: number; cpu_seconds?: number; workers?: number; error?: string } = {}
      try {
        parsed = JSON.parse(line) as typeof parsed
      } catch {
        // fall through to the error below
      }
      if (code === 0 && typeof parsed.count === 'number' && typeof parsed.seconds === 'number')
        done({ ok: true, count: parsed.count, seconds: parsed.seconds, cpuSeconds: parsed.cpu_seconds ?? NaN, workers: parsed.workers ?? 1 })
      else done({ ok: false, error: parsed.error ?? `pil_import.py exited with ${code}: ${(stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)}` })
    })
  })
}
