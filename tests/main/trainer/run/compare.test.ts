import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareRuns, configDiff, flattenConfig, nearestSample, thinMetrics } from '../../../../src/main/trainer/run/compare'
import type { MetricRecord } from '../../../../src/shared/runs'
import { appendMetrics } from '../../../../src/main/trainer/run/runs'
import { makeTinyRun, type TinyRun } from '../../generate/fixture'

let root: string
let a: TinyRun
let b: TinyRun
let c: TinyRun

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-compare-'))
  const runs = join(root, 'runs')
  a = await makeTinyRun(runs, { steps: [100, 200], imagesPerSec: 40 })
  b = await makeTinyRun(runs, { steps: [150], overrides: { batchSize: 8, optimizer: { gLr: 0.001 } }, imagesPerSec: 80 })
  c = await makeTinyRun(runs, { steps: [100], overrides: { batchSize: 8 } })
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('config diff', () => {
  it('flattens nested settings to dotted keys and keeps arrays as values', () => {
    expect(flattenConfig({ a: 1, b: { c: true, d: { e: 'x' } }, f: [1, 2] })).toEqual({ a: 1, 'b.c': true, 'b.d.e': 'x', f: [1, 2] })
  })

  it('lists only what differs, missing keys included', () => {
    expect(configDiff([{ x: 1, y: { z: 2 } }, { x: 1, y: { z: 3 }, w: true }])).toEqual([
      { key: 'y.z', values: [2, 3] },
      { key: 'w', values: [null, true] }
    ])
  })
})

describe('compareRuns', () => {
  it('shows exactly the two settings two runs differ in', async () => {
    const r = await compareRuns([a.dir, b.dir])
    expect(r.configDiff).toEqual([
      { key: 'batchSize', values: [4, 8] },
      { key: 'optimizer.gLr', values: [0.0002, 0.001] }
    ])
  })

  it('gives metrics per run for the overlay, grids nearest a step and a summary table', async () => {
    const r = await compareRuns([a.dir, b.dir, c.dir], { step: 120 })
    expect(r.runs.map((s) => s.id)).toEqual([a.id, b.id, c.id])
    expect(r.metrics.map((m) => m.length)).toEqual([20, 15, 10])
    expect(r.metrics[1]![0]).toMatchObject({ step: 10, imagesSeen: 80 })
    expect(r.sampleSteps).toEqual([[100, 200], [150], [100]])
    expect(r.step).toBe(120)
    expect(r.grids).toEqual([
      { step: 100, file: 'samples/step-000100.png' },
      { step: 150, file: 'samples/step-000150.png' },
      { step: 100, file: 'samples/step-000100.png' }
    ])
    expect(r.summary[0]).toMatchObject({ id: a.id, steps: 200, imagesSeen: 800, trainingMs: 20_000, imagesPerSec: 40, finalGLoss: 1.2, finalDLoss: 0.9 })
    expect(r.summary[1]).toMatchObject({ steps: 150, imagesPerSec: 80 })
    // by default, the newest step every run has a grid for
    expect((await compareRuns([a.dir, b.dir])).step).toBe(150)
    expect(r.configDiff.map((d) => d.key)).toEqual(['batchSize', 'optimizer.gLr'])
  })

  it('gives every quality measurement per run (not thinned) and the newest in the summary', async () => {
    const d = await makeTinyRun(join(root, 'runs'), { steps: [100] })
    const base = { t: 1, imagesSeen: 4, gLoss: 1, dLoss: 1, dReal: 0, dFake: 0, imagesPerSec: 1 }
    await appendMetrics(d.dir, [
      { ...base, step: 500, imagesSeen: 2000, quality: { swd: 50, kid: 1, variety: 0.2, memorisation: 1, count: 64 } },
      { ...base, step: 510 },
      { ...base, step: 1000, imagesSeen: 4000, quality: { swd: 30, kid: 0.5, variety: 0.9, memorisation: 1.1, count: 64 } }
    ])
    const r = await compareRuns([a.dir, d.dir], { maxPoints: 2 })
    expect(r.quality[0]).toEqual([])
    expect(r.quality[1]!.map((q) => [q.step, q.imagesSeen, q.swd])).toEqual([[500, 2000, 50], [1000, 4000, 30]])
    expect(r.summary[0]!.quality).toBeNull()
    expect(r.summary[1]!.quality).toMatchObject({ step: 1000, swd: 30, variety: 0.9 })
  })

  it('thins long metric logs and picks the nearest grid', () => {
    const recs = Array.from({ length: 10_001 }, (_, i) => ({ step: i }) as MetricRecord)
    const thin = thinMetrics(recs, 2000)
    expect(thin).toHaveLength(2000)
    expect(thin[0]!.step).toBe(0)
    expect(thin.at(-1)!.step).toBe(10_000)
    const samples = [0, 100, 200].map((step) => ({ runId: 'r', step, file: `s${step}` }))
    expect(nearestSample(samples, 149)!.step).toBe(100)
    expect(nearestSample(samples, 150)!.step).toBe(100)
    expect(nearestSample(samples, 151)!.step).toBe(200)
    expect(nearestSample([], 5)).toBeNull()
  })

  it('takes 2 to 6 runs', async () => {
    await expect(compareRuns([a.dir])).rejects.toMatchObject({ code: 'bad-input' })
    await expect(compareRuns(Array(7).fill(a.dir))).rejects.toMatchObject({ code: 'bad-input' })
  })
})
