import { spawn } from 'node:child_process'
import { existsSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import type { ModelArch } from '@shared/config'
import { readRun } from '../../src/main/trainer/run/runs'
import { writeJsonAtomic } from '../../src/main/util/fs'
import { APP_VERSION } from '../../src/main/util/version'
import { availableCores } from '../../src/main/trainer/tf/wasm'
import type { Options } from './args'
import { defaultPython } from './engines'
import { machineInfo } from './load'
import { makeDataset, DATASET_RESOLUTION, type DatasetKind } from './make-dataset'

/**
 * `--quality`: what equal wall-clock buys. On each generated dataset (sprites at 32 px,
 * illustrations at 64 px), every family trains with its defaults through the real CLI
 * (`gan-studio train <folder> --resolution R --crop pad`, with `model.arch` set) for the same
 * minutes of training (the clock starts when the run reports `running`, after import and set-up;
 * then SIGTERM, which stops after the step and checkpoints), then `gan-studio generate` writes
 * images from the EMA generator. Where python3-torch exists, a PyTorch DCGAN (BatchNorm, the
 * standard recipe) and a PyTorch FastGAN-lite train for the same time (torch_quality.py). All
 * are scored by the project's quality meter:
 *   gan-studio quality --images DIR --dataset DIR --resolution R --crop pad --json
 *   → {"swd", "kid", "variety", "memorisation", "count"}
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const CLI = join(ROOT, 'bin', 'gan-studio.js')
const DATASETS: { kind: DatasetKind; count: number }[] = [
  { kind: 'sprites', count: 512 },
  { kind: 'illustrations', count: 384 }
]
const GENERATED = 256

export interface QualityScores {
  swd: number
  kid: number
  variety: number
  memorisation: number
  count: number
}

export interface QualityRow {
  dataset: DatasetKind
  resolution: number
  model: string
  steps: number | null
  imagesPerSec: number | null
  scores: QualityScores | null
  error: string | null
}

interface Proc {
  code: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Proc> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (err) => done({ code: -1, stdout, stderr: stderr + err.message }))
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

const lastLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? ''

/** The JSON object a command printed last on stdout, or null. */
export function lastJson(stdout: string): Record<string, unknown> | null {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'))
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as Record<string, unknown>
    } catch {
      // keep looking
    }
  }
  return null
}

/** Checks the quality meter's answer: every field a finite number. */
export function parseScores(stdout: string): QualityScores {
  const j = lastJson(stdout)
  if (!j) throw new Error('the quality meter printed no JSON object')
  const out: Partial<QualityScores> = {}
  for (const key of ['swd', 'kid', 'variety', 'memorisation', 'count'] as const) {
    const v = j[key]
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`the quality meter's "${key}" is ${JSON.stringify(v)}, not a number`)
    out[key] = v
  }
  return out as QualityScores
}

/** The quality meter's command: the project's CLI, or `$GAN_STUDIO_QUALITY_CLI` (a script taking the same arguments). */
function qualityCommand(): [string, string[]] {
  const override = process.env.GAN_STUDIO_QUALITY_CLI
  return override ? [override, []] : [process.execPath, [CLI, 'quality']]
}

async function score(images: string, dataset: string, resolution: number): Promise<QualityScores> {
  const [cmd, pre] = qualityCommand()
  const r = await run(cmd, [...pre, '--images', images, '--dataset', dataset, '--resolution', String(resolution), '--crop', 'pad', '--json'])
  if (r.code !== 0) throw new Error(`the quality meter failed (exit ${r.code}): ${lastLine(r.stderr) || lastLine(r.stdout)}`)
  return parseScores(r.stdout)
}

async function waitForRunning(runsDir: string, deadline: number): Promise<string | null> {
  while (Date.now() < deadline) {
    for (const name of await fsp.readdir(runsDir).catch(() => [] as string[])) {
      const dir = join(runsDir, name)
      const run = await readRun(dir).catch(() => null)
      if (run?.status === 'running' || run?.status === 'failed') return dir
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  return null
}

/** Trains one of our families through the CLI for `seconds` of training, then generates images. */
async function trainOurs(arch: ModelArch, dataset: string, resolution: number, seconds: number, work: string, env: NodeJS.ProcessEnv): Promise<Omit<QualityRow, 'dataset' | 'resolution' | 'model' | 'scores'> & { images: string | null }> {
  const runsDir = join(work, 'runs')
  await fsp.rm(runsDir, { recursive: true, force: true })
  await fsp.mkdir(runsDir, { recursive: true })
  const config = join(work, 'config.json')
  await writeJsonAtomic(config, { model: { arch } })
  const child = spawn(process.execPath, [CLI, 'train', dataset, '--resolution', String(resolution), '--crop', 'pad', '--out', runsDir, '--name', arch, '--steps', '10000000', '--config', config], {
    env,
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  const runDir = await Promise.race([waitForRunning(runsDir, Date.now() + 10 * 60_000), exited.then(() => null)])
  if (!runDir) {
    child.kill()
    await exited
    return { steps: null, imagesPerSec: null, error: `training did not start: ${lastLine(stderr)}`, images: null }
  }
  await Promise.race([new Promise((r) => setTimeout(r, seconds * 1000)), exited])
  child.kill('SIGTERM')
  await exited
  const run = await readRun(runDir)
  if (run.status === 'failed') return { steps: run.step, imagesPerSec: null, error: `training failed: ${run.error?.message ?? lastLine(stderr)}`, images: null }
  const images = join(work, 'images')
  await fsp.rm(images, { recursive: true, force: true })
  const g = await run_('generate', [runDir, '--count', String(GENERATED), '--out', images], env)
  if (g) return { steps: run.step, imagesPerSec: null, error: g, images: null }
  return { steps: run.step, imagesPerSec: run.trainingMs > 0 ? run.imagesSeen / (run.trainingMs / 1000) : null, error: null, images }
}

async function run_(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  const r = await run(process.execPath, [CLI, command, ...args], env)
  return r.code === 0 ? null : `gan-studio ${command} failed (exit ${r.code}): ${lastLine(r.stderr) || lastLine(r.stdout)}`
}

/** The dataset flattened onto white as raw RGB (what the importer's `pad` does at the same size). */
async function rawRgb(dir: string, file: string): Promise<void> {
  const files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.png')).sort()
  const parts: Buffer[] = []
  for (const f of files) parts.push(await sharp(join(dir, f)).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer())
  await fsp.writeFile(file, Buffer.concat(parts))
}

async function rawToPngs(file: string, dir: string, resolution: number): Promise<number> {
  const raw = await fsp.readFile(file)
  const per = resolution * resolution * 3
  await fsp.rm(dir, { recursive: true, force: true })
  await fsp.mkdir(dir, { recursive: true })
  const n = Math.floor(raw.length / per)
  for (let i = 0; i < n; i++)
    await sharp(raw.subarray(i * per, (i + 1) * per), { raw: { width: resolution, height: resolution, channels: 3 } })
      .png()
      .toFile(join(dir, `${String(i).padStart(5, '0')}.png`))
  return n
}

async function trainTorch(python: string, model: 'dcgan-bn' | 'fastgan-lite', raw: string, resolution: number, seconds: number, work: string): Promise<Omit<QualityRow, 'dataset' | 'resolution' | 'model' | 'scores'> & { images: string | null }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_quality.py')
  const out = join(work, 'generated.rgb')
  const r = await run(python, [script, '--model', model, '--data', raw, '--resolution', String(resolution), '--seconds', String(seconds), '--out', out, '--count', String(GENERATED), '--threads', String(availableCores())])
  const j = lastJson(r.stdout)
  if (r.code !== 0 || !j || typeof j.error === 'string') return { steps: null, imagesPerSec: null, error: (j?.error as string | undefined) ?? `exit ${r.code}: ${lastLine(r.stderr)}`, images: null }
  const images = join(work, 'images')
  await rawToPngs(out, images, resolution)
  return { steps: Number(j.steps), imagesPerSec: Number(j.imagesPerSec), error: null, images }
}

async function torchAvailable(python: string): Promise<string | null> {
  const r = await run(python, ['-c', 'import torch'])
  return r.code === 0 ? null : `PyTorch references skipped: ${python} cannot import torch (apt-get install -y python3-torch libopenblas0-pthread)`
}

export async function runQuality(opts: Options): Promise<number> {
  const out = (line = '') => process.stdout.write(line + '\n')
  const machine = machineInfo()
  const seconds = opts.minutes * 60
  const workDir = resolve(opts.workDir ?? (await fsp.mkdtemp(join(tmpdir(), 'gan-studio-quality-'))))
  if (!existsSync(CLI)) {
    process.stderr.write('bench: bin/gan-studio.js is missing\n')
    return 2
  }
  const env = { ...process.env, GAN_STUDIO_HOME: join(workDir, 'home') }
  const python = opts.python ?? defaultPython()
  const noTorch = await torchAvailable(python)
  out(`GAN Studio ${APP_VERSION} bench --quality — ${machine.cpu}, ${machine.cores} cores; ${opts.minutes} min of training per model; work folder ${workDir}`)
  if (noTorch) out(noTorch)
  const rows: QualityRow[] = []
  for (const { kind, count } of DATASETS) {
    const resolution = DATASET_RESOLUTION[kind]
    if (!opts.resolutions.includes(resolution)) continue
    const ds = await makeDataset(kind, join(workDir, 'datasets', kind), count)
    out()
    out(`${kind}: ${count} generated images at ${resolution} px (${ds.dir})`)
    const models: { name: string; train: (work: string) => ReturnType<typeof trainOurs> }[] = opts.families.map((arch) => ({
      name: `GAN Studio ${arch} (defaults)`,
      train: (work: string) => trainOurs(arch, ds.dir, resolution, seconds, work, env)
    }))
    if (!noTorch) {
      const raw = join(workDir, 'datasets', `${kind}.rgb`)
      await rawRgb(ds.dir, raw)
      models.push({ name: 'PyTorch DCGAN (BatchNorm)', train: (work) => trainTorch(python, 'dcgan-bn', raw, resolution, seconds, work) })
      models.push({ name: 'PyTorch FastGAN-lite', train: (work) => trainTorch(python, 'fastgan-lite', raw, resolution, seconds, work) })
    }
    for (const [i, m] of models.entries()) {
      const work = join(workDir, kind, String(i))
      await fsp.mkdir(work, { recursive: true })
      out(`  ${m.name}: training for ${opts.minutes} min…`)
      const t = await m.train(work)
      const row: QualityRow = { dataset: kind, resolution, model: m.name, steps: t.steps, imagesPerSec: t.imagesPerSec, scores: null, error: t.error }
      if (t.images && !t.error) {
        try {
          row.scores = await score(t.images, ds.dir, resolution)
        } catch (err) {
          row.error = (err as Error).message
        }
      }
      rows.push(row)
      out(`    ${describeRow(row)}`)
    }
  }
  out()
  out('model                              dataset         steps   img/s    SWD     KID  variety  memor.')
  for (const r of rows) {
    const s = r.scores
    const n = (x: number | null | undefined, d: number) => (x === null || x === undefined ? '—' : x.toFixed(d))
    out(
      `${r.model.padEnd(34)} ${r.dataset.padEnd(14)} ${n(r.steps, 0).padStart(6)} ${n(r.imagesPerSec, 1).padStart(7)} ${n(s?.swd, 1).padStart(6)} ${n(s?.kid, 3).padStart(7)} ${n(s?.variety, 2).padStart(8)} ${n(s?.memorisation, 2).padStart(7)}${r.error ? `  (${r.error})` : ''}`
    )
  }
  if (opts.json) {
    await writeJsonAtomic(opts.json, { app: APP_VERSION, date: new Date().toISOString(), machine, minutes: opts.minutes, workDir, rows })
    out(`\nResults written to ${opts.json}`)
  }
  return rows.some((r) => r.scores) ? 0 : 1
}

function describeRow(r: QualityRow): string {
  const parts = [`${r.steps ?? '?'} steps`]
  if (r.imagesPerSec !== null) parts.push(`${r.imagesPerSec.toFixed(1)} img/s`)
  if (r.scores) parts.push(`SWD ${r.scores.swd.toFixed(1)}, KID ${r.scores.kid.toFixed(3)}, variety ${r.scores.variety.toFixed(2)}, memorisation ${r.scores.memorisation.toFixed(2)}`)
  if (r.error) parts.push(`not scored: ${r.error}`)
  return parts.join(', ')
}
