import * as tf from '@tensorflow/tfjs'
import { RunConfigSchema, type BackendName, type ModelArch, type RunConfig } from '@shared/config'
import type { GanRunner, StepScalars } from '../../src/main/trainer/model/runner'
import { BatchSource, makeRunner } from '../../src/main/trainer/train'
import { describeActiveBackend, initBackend } from '../../src/main/trainer/tf/backends'
import { collectGarbage, GC_EVERY_STEPS } from '../../src/main/trainer/tf/memory'

/**
 * Training-speed bench: the project's own step through the trainer's runner (`makeRunner`: the
 * data-parallel worker threads on wasm where the machine has the cores, else this thread), fed
 * by the trainer's `BatchSource` from a uint8 image cache, with losses read back every
 * `logEvery` steps and a full GC every GC_EVERY_STEPS steps, as `trainRun` does. Every case runs
 * in its own process (index.ts) so peak RSS belongs to that case and backends share no state.
 */

export interface ModelShape {
  arch: ModelArch
  gChannels: number
  dChannels: number
  latentDim: number
}

export interface TrainCase {
  backend: BackendName
  resolution: number
  batch: number
  /** Family and widths (default: the config's defaults). */
  model?: Partial<ModelShape>
  /** Measure at least this many steps… */
  minSteps: number
  /** …and at least this long. */
  minSeconds: number
  warmupSteps: number
  /** wasm threads: the data-parallel workers' count (default: what the trainer picks). */
  threads?: number
}

export interface TrainResult {
  backend: BackendName
  /** e.g. "wasm (SIMD, 2 threads), 2 worker threads" or the WebGPU adapter. */
  detail: string
  arch: ModelArch
  model: ModelShape
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
/** Images in the bench's stand-in dataset cache. */
const CACHE_IMAGES = 256

/** The defaults a user gets at this resolution and batch, with the family and widths asked for. */
export function benchConfig(c: Pick<TrainCase, 'backend' | 'resolution' | 'batch' | 'model'>): RunConfig {
  return RunConfigSchema.parse({ source: '/bench', preprocess: { resolution: c.resolution }, batchSize: c.batch, backend: c.backend, model: c.model ?? {} })
}

/** A deterministic uint8 NHWC cache of smooth colour fields, standing in for an imported dataset. */
export function benchPixels(count: number, resolution: number): Uint8Array {
  const out = new Uint8Array(count * resolution * resolution * 3)
  for (let i = 0, o = 0; i < count; i++)
    for (let y = 0; y < resolution; y++)
      for (let x = 0; x < resolution; x++)
        for (let c = 0; c < 3; c++) out[o++] = 128 + 127 * Math.sin((x + 1) * (c + 1) * 0.37 + y * 0.21 * (i % 7) + i)
  return out
}

export interface Stepper {
  runner: GanRunner
  config: RunConfig
  /** One trainer step; reads the losses back when `read` (as the trainer does every logEvery steps). */
  step(read: boolean): Promise<void>
  readonly steps: number
  dispose(): Promise<void>
}

/** Sets up the backend, the runner and the batch source for a case. */
export async function setUp(c: TrainCase, log: (m: string) => void = () => undefined): Promise<Stepper> {
  await initBackend(c.backend, { wasmThreads: c.threads })
  const config = benchConfig(c)
  const runner = await makeRunner(config, c.backend, c.threads, log)
  const batches = new BatchSource(benchPixels(CACHE_IMAGES, c.resolution), CACHE_IMAGES, c.resolution, config.seed, config.augment.xflip)
  let steps = 0
  let imagesSeen = 0
  let pending: StepScalars[] = []
  const stepper: Stepper = {
    runner,
    config,
    get steps() {
      return steps
    },
    async step(read: boolean) {
      batches.fill(runner.realBuffer(c.batch), c.batch, imagesSeen, runner.rng)
      pending.push(await runner.step(c.batch))
      imagesSeen += c.batch
      if (read) {
        for (const s of pending) {
          if (typeof s.gLoss === 'number') continue
          await (s.gLoss as tf.Scalar).data()
          tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, ...(s.r1 ? [s.r1 as tf.Scalar] : [])] as tf.Tensor[])
        }
        pending = []
      }
      if (++steps % GC_EVERY_STEPS === 0) collectGarbage()
    },
    async dispose() {
      for (const s of pending) if (typeof s.gLoss !== 'number') tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, ...(s.r1 ? [s.r1] : [])] as tf.Tensor[])
      await runner.dispose()
    }
  }
  return stepper
}

export function shapeOf(config: RunConfig): ModelShape {
  const { arch, gChannels, dChannels, latentDim } = config.model
  return { arch, gChannels, dChannels, latentDim }
}

export interface WindowResult {
  steps: number
  seconds: number
  msPerStep: number
  imagesPerSec: number
  /** CPU time of the whole process (all threads) per step: steadier than wall time on a busy machine. */
  cpuMsPerStep: number
  tensorGrowth: number
}

/**
 * Times steps for at least `minSeconds` and `minSteps`. A backend that needs many seconds a step
 * (software WebGPU: ~1 min at 64 px) stops after one step once it has run past three times the
 * time asked for (two steps if its first step was quicker than that).
 */
export async function measureWindow(s: Stepper, batch: number, minSeconds: number, minSteps: number, firstStepMs = 0, onStart?: () => void): Promise<WindowResult> {
  const readEvery = s.config.logEvery
  const tensorsBefore = tf.memory().numTensors
  onStart?.()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let steps = 0
  const elapsed = () => performance.now() - t0
  const enough = () => elapsed() > 3 * minSeconds * 1000 && steps >= (firstStepMs > 3 * minSeconds * 1000 ? 1 : 2)
  while ((steps < minSteps || elapsed() < minSeconds * 1000) && !enough()) {
    steps++
    await s.step(steps % readEvery === 0)
  }
  await s.step(true) // drain the device queue before the clock stops
  steps++
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return {
    steps,
    seconds: ms / 1000,
    msPerStep: ms / steps,
    imagesPerSec: (batch * steps) / (ms / 1000),
    cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps,
    tensorGrowth: tf.memory().numTensors - tensorsBefore
  }
}

/** Set-up, the first step (timed on its own) and the warm-up steps. */
export async function warmUp(c: TrainCase): Promise<{ stepper: Stepper; firstStepMs: number }> {
  const s = await setUp(c)
  const first0 = performance.now()
  await s.step(true)
  const firstStepMs = performance.now() - first0
  const slow = firstStepMs > c.minSeconds * 1000
  for (let i = 1; i < (slow ? 1 : c.warmupSteps); i++) await s.step(true)
  return { stepper: s, firstStepMs }
}

export function describeStepper(s: Stepper): string {
  return `${describeActiveBackend()}, ${s.runner.describe()}`
}

export async function runTrainCase(c: TrainCase): Promise<TrainResult> {
  const { stepper: s, firstStepMs } = await warmUp(c)
  try {
    const w = await measureWindow(s, c.batch, c.minSeconds, c.minSteps, firstStepMs)
    return {
      backend: c.backend,
      detail: describeStepper(s),
      arch: s.config.model.arch,
      model: shapeOf(s.config),
      resolution: c.resolution,
      batch: c.batch,
      steps: w.steps,
      msPerStep: w.msPerStep,
      imagesPerSec: w.imagesPerSec,
      cpuMsPerStep: w.cpuMsPerStep,
      peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
      tensorGrowth: w.tensorGrowth,
      firstStepMs
    }
  } finally {
    await s.dispose()
  }
}

/** A long run sampling RSS and live tensors, for "memory stays flat over thousands of steps". */
export async function runRssCase(c: TrainCase & { steps: number; onSample?: (s: RssResult['samples'][number]) => void }): Promise<RssResult> {
  const s = await setUp(c)
  const readEvery = s.config.logEvery
  try {
    const every = Math.max(1, Math.floor(c.steps / 40))
    const warmAt = Math.max(every, Math.floor(c.steps / 10))
    const samples: RssResult['samples'] = []
    let tensorsWarm = 0
    for (let k = 1; k <= c.steps; k++) {
      await s.step(k % readEvery === 0 || k % every === 0)
      if (k % every === 0 || k === c.steps) {
        const sample = { step: k, rssMiB: process.memoryUsage().rss / MiB, tensors: tf.memory().numTensors }
        samples.push(sample)
        c.onSample?.(sample)
      }
      if (k === warmAt) tensorsWarm = tf.memory().numTensors
    }
    const warm = samples.find((x) => x.step >= warmAt) ?? samples[0]!
    const end = samples.at(-1)!
    return {
      backend: c.backend,
      detail: `${describeActiveBackend()}, ${s.runner.describe()}`,
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
    await s.dispose()
  }
}

