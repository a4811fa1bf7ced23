import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { RunConfigSchema, type BackendName } from '@shared/config'
import { Gan, ganOptionsFromConfig } from '../trainer/model/gan'
import { describeActiveBackend, initBackend } from '../trainer/tf/backends'
import { collectGarbage, GC_EVERY_STEPS } from '../trainer/tf/memory'

/**
 * Training-speed bench: the project's own `Gan.trainStep` (one G step, then one D
 * step on the same generated batch) at the default model size, with random "real" images (the
 * data pipeline is not part of the step). Every case runs in its own process (index.ts) so peak
 * RSS belongs to that case and backends do not share state.
 */

export interface TrainCase {
  backend: BackendName
  resolution: number
  batch: number
  /** Measure at least this many steps… */
  minSteps: number
  /** …and at least this long. */
  minSeconds: number
  warmupSteps: number
  /** wasm XNNPACK threads (default: every core). */
  threads?: number
}

export interface TrainResult {
  backend: BackendName
  /** e.g. "wasm (SIMD, 2 threads)" or the WebGPU adapter. */
  detail: string
  resolution: number
  batch: number
  steps: number
  msPerStep: number
  imagesPerSec: number
  /** CPU time of the whole process (all threads) per step: steadier than wall time on a busy machine. */
  cpuMsPerStep: number
  peakRssMiB: number
  /** Tensors alive after the timed steps minus before: should be 0. */
  tensorGrowth: number
  /** First step (kernel set-up, shader compilation). */
  firstStepMs: number
}

export interface RssResult {
  backend: BackendName
  detail: string
  resolution: number
  steps: number
  /** RSS after the first 10% of steps (warm), at the end, and the largest sample, in MiB. */
  rssWarmMiB: number
  rssEndMiB: number
  rssMaxMiB: number
  /** (end − warm) / warm, in percent. */
  driftPercent: number
  tensorGrowth: number
  samples: { step: number; rssMiB: number; tensors: number }[]
}

const MiB = 1024 * 1024

function benchConfig(resolution: number, batch: number) {
  // The defaults a user gets, at this resolution and batch; no augmentation beyond the default.
  return RunConfigSchema.parse({ source: '/bench', preprocess: { resolution }, batchSize: batch })
}

async function setUp(c: { backend: BackendName; resolution: number; batch: number; threads?: number }) {
  await initBackend(c.backend, { wasmThreads: c.threads })
  const gan = new Gan(ganOptionsFromConfig(benchConfig(c.resolution, c.batch)))
  const real = tf.tidy(() => tf.randomUniform([c.batch, c.resolution, c.resolution, 3], -1, 1, 'float32', 5)) as tf.Tensor4D
  let steps = 0
  /**
   * One step as the trainer runs it: losses read back only every few steps, and a full GC every
   * GC_EVERY_STEPS (memory.ts explains why).
   */
  const step = async (read: boolean) => {
    const out = gan.trainStep(real)
    if (read) await out.gLoss.data()
    tf.dispose([out.gLoss, out.dLoss, out.dReal, out.dFake, ...(out.r1 ? [out.r1] : [])])
    if (++steps % GC_EVERY_STEPS === 0) collectGarbage()
  }
  return { gan, real, step }
}

const READ_EVERY = 10

export async function runTrainCase(c: TrainCase): Promise<TrainResult> {
  const { gan, real, step } = await setUp(c)
  try {
    const first0 = performance.now()
    await step(true)
    const firstStepMs = performance.now() - first0
    // A backend that needs many seconds a step (software WebGPU: ~1 min at 64 px) gets no more
    // warm-up, and its measurement stops after one step once it has run past three times the
    // time asked for (two steps if the first was quicker than that).
    const slow = firstStepMs > c.minSeconds * 1000
    for (let i = 1; i < (slow ? 1 : c.warmupSteps); i++) await step(true)
    const tensorsBefore = tf.memory().numTensors
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let steps = 0
    const elapsed = () => performance.now() - t0
    const enough = () => elapsed() > 3 * c.minSeconds * 1000 && steps >= (firstStepMs > 3 * c.minSeconds * 1000 ? 1 : 2)
    while ((steps < c.minSteps || elapsed() < c.minSeconds * 1000) && !enough()) {
      steps++
      await step(steps % READ_EVERY === 0)
    }
    await step(true) // drain the device queue before the clock stops
    steps++
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return {
      backend: c.backend,
      detail: describeActiveBackend(),
      resolution: c.resolution,
      batch: c.batch,
      steps,
      msPerStep: ms / steps,
      imagesPerSec: (c.batch * steps) / (ms / 1000),
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps,
      peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
      tensorGrowth: tf.memory().numTensors - tensorsBefore,
      firstStepMs
    }
  } finally {
    gan.dispose()
    real.dispose()
  }
}

/** A long run sampling RSS and live tensors, for "memory stays flat over thousands of steps". */
export async function runRssCase(c: TrainCase & { steps: number; onSample?: (s: RssResult['samples'][number]) => void }): Promise<RssResult> {
  const { gan, real, step } = await setUp(c)
  try {
    const every = Math.max(1, Math.floor(c.steps / 40))
    const warmAt = Math.max(every, Math.floor(c.steps / 10))
    const samples: RssResult['samples'] = []
    let tensorsWarm = 0
    for (let s = 1; s <= c.steps; s++) {
      await step(s % READ_EVERY === 0 || s % every === 0)
      if (s % every === 0 || s === c.steps) {
        const sample = { step: s, rssMiB: process.memoryUsage().rss / MiB, tensors: tf.memory().numTensors }
        samples.push(sample)
        c.onSample?.(sample)
      }
      if (s === warmAt) tensorsWarm = tf.memory().numTensors
    }
    const warm = samples.find((x) => x.step >= warmAt) ?? samples[0]!
    const end = samples.at(-1)!
    return {
      backend: c.backend,
      detail: describeActiveBackend(),
      resolution: c.resolution,
      steps: c.steps,
      rssWarmMiB: warm.rssMiB,
      rssEndMiB: end.rssMiB,
      rssMaxMiB: Math.max(...samples.map((x) => x.rssMiB)),
      driftPercent: ((end.rssMiB - warm.rssMiB) / warm.rssMiB) * 100,
      tensorGrowth: end.tensors - tensorsWarm,
      samples
    }
  } finally {
    gan.dispose()
    real.dispose()
  }
}

export interface TorchResult {
  resolution: number
  batch: number
  steps: number
  msPerStep: number
  imagesPerSec: number
  cpuMsPerStep: number
  threads: number
  torch: string
  peakRssMiB: number
}

/** scripts/bench/torch_dcgan.py, from the built out/main/ or from src/main/bench/. */
export function torchScript(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'bench', 'torch_dcgan.py')
    if (existsSync(candidate)) return candidate
    dir = resolve(dir, '..')
  }
  return null
}

export function defaultPython(): string {
  return process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')
}

/**
 * Runs the PyTorch twin of the step. Resolves to its results, or to `{ error }` with a sentence
 * (python or torch missing, script failed) — never throws for a missing PyTorch.
 */
export async function runTorch(opts: {
  python?: string
  resolutions: number[]
  batch: number
  minSteps: number
  minSeconds: number
  warmupSteps: number
  threads: number
}): Promise<{ results: TorchResult[] } | { error: string }> {
  const script = torchScript()
  if (!script) return { error: 'scripts/bench/torch_dcgan.py was not found next to this build' }
  const python = opts.python ?? defaultPython()
  const args = [
    script,
    ...opts.resolutions.flatMap((r) => ['--resolution', String(r)]),
    '--batch',
    String(opts.batch),
    '--steps',
    String(opts.minSteps),
    '--seconds',
    String(opts.minSeconds),
    '--warmup',
    String(opts.warmupSteps),
    '--threads',
    String(opts.threads)
  ]
  return new Promise((resolvePromise) => {
    let out = ''
    let err = ''
    let child
    try {
      child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) {
      resolvePromise({ error: `could not start ${python}: ${(e as Error).message}` })
      return
    }
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', (e) => resolvePromise({ error: `could not start ${python}: ${e.message}` }))
    child.on('close', (code) => {
      const lines = out
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as TorchResult & { error?: string })
      const failed = lines.find((l) => l.error)
      if (failed) return resolvePromise({ error: failed.error! })
      if (code !== 0 || lines.length === 0) {
        const why = err.trim().split('\n').at(-1) ?? `exit code ${code}`
        return resolvePromise({ error: `${python} ${script} failed: ${why}` })
      }
      resolvePromise({ results: lines })
    })
  })
}
