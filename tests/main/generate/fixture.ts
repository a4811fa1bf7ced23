import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { RunConfigSchema, type RunConfig, type RunConfigInput } from '../../../src/shared/config'
import type { DatasetSummary } from '../../../src/shared/datasets'
import type { MetricRecord } from '../../../src/shared/runs'
import { Gan, ganOptionsFromConfig } from '../../../src/main/trainer/model/gan'
import type { Layout } from '../../../src/main/trainer/model/params'
import { Rng } from '../../../src/main/trainer/model/rng'
import { checkpointName, saveCheckpoint } from '../../../src/main/trainer/run/checkpoint'
import { gridPng } from '../../../src/main/trainer/run/grid'
import { appendMetrics, createRun, updateRun } from '../../../src/main/trainer/run/runs'
import { sampleFileName } from '../../../src/shared/runs'

/**
 * A run folder with a tiny generator (cpu, 32 px, gChannels 8) and real checkpoints, made without
 * training: the weights are drawn at a scale that makes seeds visibly different (a fresh DCGAN's
 * 0.02 init draws near-grey images), and the EMA generator differs from the raw one.
 */

export const TINY: RunConfigInput = {
  source: '/nonexistent/images',
  preprocess: { resolution: 32 },
  model: { latentDim: 16, gChannels: 8, dChannels: 8 },
  backend: 'cpu',
  steps: 200,
  batchSize: 4,
  gridSize: 16
}

function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return base
  if (base && typeof base === 'object' && !Array.isArray(base) && over && typeof over === 'object') {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v)
    return out as T
  }
  return over as T
}

export function tinyConfig(overrides: Partial<RunConfigInput> = {}): RunConfig {
  return RunConfigSchema.parse(deepMerge(TINY, overrides))
}

function fakeDataset(config: RunConfig): DatasetSummary {
  const now = new Date().toISOString()
  return {
    formatVersion: 1,
    id: 'test-dataset',
    name: 'test images',
    source: config.source,
    createdAt: now,
    updatedAt: now,
    resolution: config.preprocess.resolution,
    crop: config.preprocess.crop,
    background: config.preprocess.background,
    count: 10,
    scanned: 10,
    duplicates: 0,
    skipped: [],
    stats: { minWidth: 32, maxWidth: 32, minHeight: 32, maxHeight: 32, medianWidth: 32, medianHeight: 32, minAspect: 1, maxAspect: 1, medianAspect: 1, withAlpha: 0 },
    cacheFile: 'cache-32.bin',
    fingerprint: 'test'
  }
}

/** Redraws every generator weight at a lively scale (kernels ~ He init, norms around 1). */
function liven(layout: Layout, target: Float32Array, rng: Rng): void {
  for (const { name, shape, offset, length } of layout.slots) {
    if (!name.startsWith('g/')) continue
    const data = new Float32Array(length)
    if (name.endsWith('/kernel')) {
      const fanIn = shape.length === 2 ? shape[0]! : (shape[0]! * shape[1]! * shape[3]!) / 4
      rng.fillNormal(data, Math.sqrt((name === 'g/rgb/kernel' ? 0.5 : 2) / fanIn))
    } else if (name.endsWith('/gamma')) {
      rng.fillNormal(data, 0.2)
      for (let i = 0; i < length; i++) data[i] = data[i]! + 1
    } else rng.fillNormal(data, 0.1)
    target.set(data, offset)
  }
}

export interface TinyRun {
  dir: string
  id: string
  config: RunConfig
}

/**
 * Creates `<runsDir>/<id>` with checkpoints at the given steps (weights change between them),
 * metrics and a sample grid per checkpoint.
 */
export async function makeTinyRun(
  runsDir: string,
  opts: { overrides?: Partial<RunConfigInput>; steps?: number[]; seed?: number; imagesPerSec?: number } = {}
): Promise<TinyRun> {
  const config = tinyConfig(opts.overrides)
  const { dir, run } = await createRun({ runsDir, config, dataset: fakeDataset(config) })
  const gan = new Gan(ganOptionsFromConfig(config))
  const rng = new Rng(opts.seed ?? 7)
  const steps = opts.steps ?? [100]
  const ips = opts.imagesPerSec ?? 50
  let last = 0
  try {
    for (const step of steps) {
      const g = await gan.g.read()
      liven(gan.g.layout, g.values, rng)
      liven(gan.g.layout, g.ema!, rng)
      gan.g.write(g)
      const imagesSeen = step * config.batchSize
      const trainingMs = Math.round((imagesSeen / ips) * 1000)
      const state = await gan.state()
      await saveCheckpoint(
        dir,
        { step, imagesSeen, trainingMs, appVersion: 'test', config, rng: state.rng, gOptStep: step, dOptStep: step },
        state.tensors
      )
      const records: MetricRecord[] = []
      for (let s = last + 10; s <= step; s += 10)
        records.push({ step: s, t: Math.round(((s * config.batchSize) / ips) * 1000), imagesSeen: s * config.batchSize, gLoss: 1 + s / 1000, dLoss: 1 - s / 2000, dReal: 0.5, dFake: -0.5, imagesPerSec: ips })
      await appendMetrics(dir, records)
      const grid = new Uint8Array(4 * 32 * 32 * 3).fill(step % 256)
      await fsp.mkdir(join(dir, 'samples'), { recursive: true })
      await fsp.writeFile(join(dir, sampleFileName(step)), await gridPng(grid, 4, 32))
      await updateRun(dir, { step, imagesSeen, trainingMs, latestCheckpoint: checkpointName(step), latestCheckpointStep: step, status: 'stopped' })
      last = step
    }
  } finally {
    gan.dispose()
  }
  return { dir, id: run.id, config }
}
