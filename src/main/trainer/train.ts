import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '@shared/config'
import { toDatasetSummary, type DatasetJson } from '@shared/datasets'
import { StudioError, toErrorShape, type StudioErrorShape } from '@shared/errors'
import { sampleFileName, type MetricRecord, type QualityScores, type RunJson, type RunStatus } from '@shared/runs'
import { writeFileAtomic } from '../util/fs'
import { APP_VERSION } from '../util/version'
import { getDataset, importDataset, loadDatasetPixels } from './data/dataset'
import type { TrainControl, TrainerEvent } from './events'
import { ganOptionsFromConfig, type StepTensors } from './model/gan'
import { LocalRunner, type GanRunner, type StepNumbers, type StepScalars } from './model/runner'
import { ParallelRunner, workersFor } from './parallel/runner'
import { availableCores } from './tf/wasm'
import { latentsForSeeds, Rng } from './model/rng'
import { latestGoodCheckpoint, saveCheckpoint } from './run/checkpoint'
import { fineTuneStartState } from './run/fine-tune'
import { gridPng, toUint8 } from './run/grid'
import { appendMetrics, readOrRebuildRun, truncateMetrics, writeRun } from './run/runs'
import { TrainingQualityMeter } from './quality/meter'
import { initBackend } from './tf/backends'
import { collectGarbage, GC_EVERY_STEPS } from './tf/memory'

export interface TrainRunOptions {
  runDir: string
  datasetsDir: string
  control?: TrainControl
  emit?: (event: TrainerEvent) => void
  /** Calibration cache for `auto` (e.g. `<home>/cache/backends.json`). */
  backendCacheFile?: string
  /** Let `auto` fall back to the pure-JS cpu backend (tiny tests only). */
  allowCpu?: boolean
  /** Data-parallel worker threads (default: one per core on wasm, up to the batch allows; 1 trains in this thread). */
  workers?: number
}

const GRID_SEED_BASE = 0

/** Fixed seeds for the sample grid: the same for every run, so runs compare image for image. */
export function gridSeeds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => GRID_SEED_BASE + i)
}

/**
 * Batches of real images in [-1, 1]. The order is a fresh shuffle per epoch derived from the run's
 * seed and the epoch number, so it depends only on how many images were seen: a resumed run reads
 * exactly the batches the uninterrupted run would have. x-flip draws come from the trainer's RNG.
 */
export class BatchSource {
  private epoch = -1
  private order: Uint32Array = new Uint32Array(0)
  private readonly imageSize: number

  constructor(
    private readonly pixels: Uint8Array,
    readonly count: number,
    readonly resolution: number,
    private readonly seed: number,
    private readonly xflip: boolean
  ) {
    this.imageSize = resolution * resolution * 3
  }

  /** Fills `out` (NHWC, `batch` images) with the next batch. */
  fill(out: Float32Array, batch: number, imagesSeen: number, rng: Rng): void {
    const r = this.resolution
    for (let i = 0; i < batch; i++) {
      const k = imagesSeen + i
      const epoch = Math.floor(k / this.count)
      if (epoch !== this.epoch) {
        this.epoch = epoch
        this.order = new Rng((this.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).shuffle(this.count)
      }
      const src = this.order[k % this.count]! * this.imageSize
      const dst = i * this.imageSize
      const flip = this.xflip && rng.next() < 0.5
      for (let y = 0; y < r; y++) {
        for (let x = 0; x < r; x++) {
          const sx = flip ? r - 1 - x : x
          const s = src + (y * r + sx) * 3
          const d = dst + (y * r + x) * 3
          out[d] = this.pixels[s]! / 127.5 - 1
          out[d + 1] = this.pixels[s + 1]! / 127.5 - 1
          out[d + 2] = this.pixels[s + 2]! / 127.5 - 1
        }
      }
    }
  }

  next(batch: number, imagesSeen: number, rng: Rng): tf.Tensor4D {
    const out = new Float32Array(batch * this.imageSize)
    this.fill(out, batch, imagesSeen, rng)
    return tf.tensor4d(out, [batch, this.resolution, this.resolution, 3])
  }
}

/**
 * Loss sums kept on the device between reads, so the loop never waits on a GPU→CPU copy per step.
 * A NaN or infinity in any step survives the sum, so divergence is caught at the next read.
 */
class MetricAccumulator {
  private sums: tf.Tensor | null = null
  private r1Sum: tf.Tensor | null = null
  private steps = 0
  private r1Steps = 0

  add(s: StepScalars): void {
    if (typeof s.gLoss === 'number') {
      const n = s as StepNumbers
      this.addNumbers([n.gLoss, n.dLoss, n.dReal, n.dFake], n.r1)
      return
    }
    const t = s as StepTensors
    this.addTensors(t)
  }

  private numberSums: number[] | null = null
  private numberR1 = 0

  private addNumbers(row: number[], r1: number | null): void {
    this.numberSums ??= [0, 0, 0, 0]
    row.forEach((v, i) => (this.numberSums![i]! += v))
    if (r1 !== null) {
      this.numberR1 += r1
      this.r1Steps += 1
    }
    this.steps += 1
  }

  private addTensors(s: StepTensors): void {
    const row = tf.stack([s.gLoss, s.dLoss, s.dReal, s.dFake])
    const sums = this.sums ? tf.add(this.sums, row) : row.clone()
    if (s.r1) {
      const r1Sum = this.r1Sum ? tf.add(this.r1Sum, s.r1) : s.r1.clone()
      this.r1Sum?.dispose()
      this.r1Sum = r1Sum
      this.r1Steps += 1
    }
    tf.dispose([row, s.gLoss, s.dLoss, s.dReal, s.dFake, s.r1 ?? [], this.sums ?? []])
    this.sums = sums
    this.steps += 1
  }

  /** Reads the means and resets. Returns null when nothing was accumulated. */
  async read(): Promise<{ gLoss: number; dLoss: number; dReal: number; dFake: number; r1: number | null; finite: boolean } | null> {
    if (this.steps === 0) return null
    if (!this.sums && !this.numberSums) return null
    const vals = this.sums ? await this.sums.data() : Float32Array.from(this.numberSums!)
    const r1 = this.r1Sum ? (await this.r1Sum.data())[0]! / this.r1Steps : this.numberSums && this.r1Steps > 0 ? this.numberR1 / this.r1Steps : null
    const n = this.steps
    const out = {
      gLoss: vals[0]! / n,
      dLoss: vals[1]! / n,
      dReal: vals[2]! / n,
      dFake: vals[3]! / n,
      r1,
      finite: Array.from(vals).every(Number.isFinite) && (r1 === null || Number.isFinite(r1))
    }
    this.reset()
    return out
  }

  reset(): void {
    tf.dispose([this.sums ?? [], this.r1Sum ?? []])
    this.sums = null
    this.r1Sum = null
    this.numberSums = null
    this.numberR1 = 0
    this.steps = 0
    this.r1Steps = 0
  }
}

async function loadPixels(run: RunJson, config: RunConfig, datasetsDir: string, log: (m: string) => void): Promise<{ dataset: DatasetJson; pixels: Uint8Array }> {
  let dataset: DatasetJson | null = null
  try {
    // Re-validates the cache against the source folder and preprocessing; rebuilds if they changed.
    dataset = await importDataset({ source: config.source, preprocess: config.preprocess, datasetsDir })
  } catch (err) {
    const cached = await getDataset(datasetsDir, run.dataset.id).catch(() => null)
    if (!cached) throw err
    log(`Source folder unavailable (${toErrorShape(err).message}); training on the cached copy of ${cached.name}.`)
    dataset = cached
  }
  return { dataset, pixels: await loadDatasetPixels(dataset, datasetsDir) }
}

/**
 * Trains a run to its config's `steps`, resuming from its newest good checkpoint. Writes metrics,
 * fixed-seed sample grids and atomic checkpoints into the run folder; honours pause/stop between
 * steps; stops with status `failed` and a clear message if the loss becomes NaN or infinite.
 */
export async function trainRun(opts: TrainRunOptions): Promise<RunJson> {
  const { runDir } = opts
  const control: TrainControl = opts.control ?? { stop: false, pause: false }
  const emit = opts.emit ?? (() => {})
  let run = await readOrRebuildRun(runDir, (message) =>
    emit({ type: 'log', line: { runId: basename(runDir), level: 'warn', message, time: new Date().toISOString() } })
  )
  const runId = run.id
  const config = run.config
  const target = config.steps
  const log = (message: string, level: 'info' | 'warn' | 'error' = 'info'): void =>
    emit({ type: 'log', line: { runId, level, message, time: new Date().toISOString() } })
  /** Writes run.json. What a person edits (name, tags, note) lives in meta.json, which the loop never writes. */
  const persist = async (patch: Partial<RunJson>): Promise<void> => {
    run = await writeRun(runDir, { ...run, ...patch })
  }
  const setStatus = async (status: RunStatus, patch: Partial<RunJson> = {}, error: StudioErrorShape | null = null): Promise<void> => {
    // While running, run.json names this process: a reader can tell a live run from one whose process died.
    const owner = status === 'running' ? { pid: process.pid, host: hostname() } : null
    await persist({ ...patch, status, error, owner })
    emit({ type: 'status', runId, status, error })
  }

  let gan: GanRunner | null = null
  try {
    const backend = await initBackend(config.backend, { cacheFile: opts.backendCacheFile, allowCpu: opts.allowCpu, log })
    const { dataset, pixels } = await loadPixels(run, config, opts.datasetsDir, log)
    const res = config.preprocess.resolution
    gan = await makeRunner(config, backend.used, opts.workers, log)
    log(`Training on ${backend.used}, ${gan.describe()}${backend.passedOver.length ? ` (passed over: ${backend.passedOver.map((p) => p.reason).join('; ')})` : ''}`)
    const batches = new BatchSource(pixels, dataset.count, res, config.seed, config.augment.xflip)

    let step = 0
    let imagesSeen = 0
    let trainingMs = run.trainingMs
    // Damaged checkpoints are moved to checkpoints/damaged/ (kept, never candidates again).
    const ckpt = await latestGoodCheckpoint(runDir, (name, reason) => log(`Skipping checkpoint ${name}, moved to checkpoints/damaged: ${reason}`, 'warn'), { moveAside: true })
    if (ckpt) {
      await gan.load({ tensors: ckpt.tensors, gOptStep: ckpt.manifest.gOptStep, dOptStep: ckpt.manifest.dOptStep, rng: ckpt.manifest.rng })
      step = ckpt.manifest.step
      imagesSeen = ckpt.manifest.imagesSeen
      trainingMs = ckpt.manifest.trainingMs
      log(`Resumed from checkpoint ${ckpt.name} (step ${step}).`)
    } else if (run.step > 0) {
      log('No usable checkpoint found; starting this run from step 0.', 'warn')
    }
    if (!ckpt && run.fineTunedFrom) {
      await gan.load(await fineTuneStartState(runDir, run.fineTunedFrom, await gan.state()))
      log(`Fine-tuning from "${run.fineTunedFrom.name}" (step ${run.fineTunedFrom.step}).`)
    }
    // The metrics log goes back to where training continues from (lines past it are from lost steps).
    await truncateMetrics(runDir, step)
    const datasetRecord = run.dataset.id === '' ? toDatasetSummary(dataset) : { ...run.dataset, count: dataset.count }
    await setStatus('running', {
      backend,
      step,
      imagesSeen,
      trainingMs,
      latestCheckpoint: ckpt?.name ?? null,
      latestCheckpointStep: ckpt?.manifest.step ?? 0,
      dataset: datasetRecord
    })

    const seeds = gridSeeds(config.gridSize)
    const gridZ = latentsForSeeds(seeds, config.model.latentDim)
    const writeSample = async (): Promise<void> => {
      const data = toUint8(await gan!.generate(gridZ, seeds.length))
      const png = await gridPng(data, seeds.length, res)
      const file = sampleFileName(step)
      await writeFileAtomic(join(runDir, file), png)
      emit({ type: 'sample', sample: { runId, step, file } })
    }
    const quality = new TrainingQualityMeter(config, pixels, dataset.count, res)
    const acc = new MetricAccumulator()
    let windowStart = performance.now()
    let windowImages = 0
    let lastRate = 0

    /** Reads the accumulated losses; fails the run on NaN/Inf. Returns false if it diverged. */
    const flushMetrics = async (scores: QualityScores | null = null): Promise<boolean> => {
      const m = await acc.read()
      if (!m) return true
      const now = performance.now()
      const seconds = (now - windowStart) / 1000
      lastRate = seconds > 0 ? windowImages / seconds : 0
      windowStart = now
      windowImages = 0
      if (!m.finite) return false
      const record: MetricRecord = {
        step,
        t: Math.round(trainingMs),
        imagesSeen,
        gLoss: m.gLoss,
        dLoss: m.dLoss,
        dReal: m.dReal,
        dFake: m.dFake,
        ...(m.r1 !== null ? { r1: m.r1 } : {}),
        imagesPerSec: Math.round(lastRate * 10) / 10,
        ...(scores ? { quality: scores } : {})
      }
      await appendMetrics(runDir, [record])
      emit({ type: 'progress', progress: { runId, step, steps: target, imagesPerSec: record.imagesPerSec, etaMs: eta(), metric: record } })
      return true
    }
    const eta = (): number | null => (lastRate > 0 ? ((target - step) * config.batchSize * 1000) / lastRate : null)
    const checkpoint = async (): Promise<void> => {
      const state = await gan!.state()
      const name = await saveCheckpoint(
        runDir,
        { step, imagesSeen, trainingMs: Math.round(trainingMs), appVersion: APP_VERSION, config, rng: state.rng, gOptStep: state.gOptStep, dOptStep: state.dOptStep },
        state.tensors
      )
      await persist({ step, imagesSeen, trainingMs: Math.round(trainingMs), latestCheckpoint: name, latestCheckpointStep: step })
    }
    const diverged = async (): Promise<RunJson> => {
      const kept = run.latestCheckpoint ? `The last good checkpoint (step ${run.latestCheckpointStep}) is kept` : 'No checkpoint was written'
      const error: StudioErrorShape = {
        code: 'diverged',
        message: `Training diverged near step ${step}: the loss became NaN or infinite. ${kept}; try lower learning rates, the hinge loss or an R1 penalty.`
      }
      log(error.message, 'error')
      await setStatus('failed', {}, error)
      return run
    }

    if (!ckpt) {
      await writeSample()
      await checkpoint()
    }

    while (step < target) {
      if (control.stop || control.pause) {
        if (!(await flushMetrics())) return await diverged()
        if (run.latestCheckpointStep !== step) await checkpoint()
        if (control.stop) {
          await setStatus('stopped', { step })
          log(`Stopped at step ${step}.`)
          return run
        }
        await setStatus('paused', { step })
        log(`Paused at step ${step}.`)
        while (control.pause && !control.stop) await new Promise((r) => setTimeout(r, 100))
        if (control.stop) continue
        await setStatus('running')
        windowStart = performance.now()
        windowImages = 0
      }

      const t0 = performance.now()
      batches.fill(gan.realBuffer(config.batchSize), config.batchSize, imagesSeen, gan.rng)
      acc.add(await gan.step(config.batchSize))
      step += 1
      imagesSeen += config.batchSize
      windowImages += config.batchSize
      trainingMs += performance.now() - t0
      // Keeps RSS flat over long runs (V8 otherwise defers full collections; see tf/memory.ts).
      if (step % GC_EVERY_STEPS === 0) collectGarbage()

      const q0 = performance.now()
      const measured = quality.due(step, target) ? await quality.measure(gan, log) : null
      windowStart += performance.now() - q0 // measuring is not training: keep it out of images/s
      const logged = step % config.logEvery === 0 || step === target || measured !== null
      if (logged && !(await flushMetrics(measured))) return await diverged()
      if (!logged) emit({ type: 'progress', progress: { runId, step, steps: target, imagesPerSec: lastRate, etaMs: eta(), metric: null } })
      if (step % config.sampleEvery === 0 || step === target) await writeSample()
      if (step % config.checkpointEvery === 0 || step === target) {
        if (!(await flushMetrics())) return await diverged()
        await checkpoint()
      }
    }
    acc.reset()
    await setStatus(step >= config.steps ? 'completed' : 'stopped', { step })
    log(`Finished at step ${step}.`)
    return run
  } catch (err) {
    const error = describeTrainingFailure(err, runDir)
    log(error.message, 'error')
    try {
      await setStatus('failed', {}, error)
    } catch (writeErr) {
      // Nothing more can be written here (a full disk); run.json still names this process, so
      // once it has exited readers show the run as interrupted and resumable.
      log(`Could not record the failure in ${join(runDir, 'run.json')}: ${toErrorShape(writeErr).message}`, 'error')
    }
    if (err instanceof StudioError && err.message === error.message) throw err
    throw new StudioError(error.code, error.message)
  } finally {
    await gan?.dispose()
  }
}

/** The failure as a person should read it: a full disk names the folder. */
function describeTrainingFailure(err: unknown, runDir: string): StudioErrorShape {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return { code: 'io', message: `The disk holding ${runDir} is full; training stopped. Free some space, then resume (it continues from the last checkpoint).` }
  }
  return toErrorShape(err)
}

/**
 * The step runner for this run: data-parallel worker threads on wasm when the machine has cores
 * to spare (and the built worker exists), else this thread.
 */
export async function makeRunner(config: RunConfig, backend: string, workers: number | undefined, log: (m: string, level?: 'info' | 'warn') => void): Promise<GanRunner> {
  const count = workers ?? (backend === 'wasm' ? workersFor(config.batchSize, availableCores()) : 1)
  if (count > 1) {
    try {
      return await ParallelRunner.start(config, count)
    } catch (err) {
      log(`Training in one thread: the worker threads did not start (${toErrorShape(err).message}).`, 'warn')
    }
  }
  return new LocalRunner(ganOptionsFromConfig(config))
}
