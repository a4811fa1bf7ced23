import { promises as fsp } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { RunConfigSchema, type RunConfigInput } from '@shared/config'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import type { TrainerEvent } from '../../../src/main/trainer/events'
import { Gan } from '../../../src/main/trainer/model/gan'
import { listCheckpoints, loadCheckpoint } from '../../../src/main/trainer/run/checkpoint'
import { createRun, readMetrics, readRun } from '../../../src/main/trainer/run/runs'
import { trainRun } from '../../../src/main/trainer/train'
import { useWasm } from '../../helpers/backend'
import { makeImageFolder } from '../../helpers/images'

let home: string
let source: string
beforeAll(async () => {
  await useWasm()
  home = await mkdtemp(join(tmpdir(), 'gs-train-'))
  source = join(home, 'images')
  await makeImageFolder(source, { count: 12, formats: ['png', 'jpeg', 'gif'], withAlpha: 0.5 })
})

async function newRun(over: Partial<RunConfigInput> = {}): Promise<string> {
  const config = RunConfigSchema.parse({
    source,
    backend: 'wasm',
    steps: 12,
    batchSize: 4,
    logEvery: 2,
    sampleEvery: 4,
    checkpointEvery: 4,
    gridSize: 16,
    model: { latentDim: 16, gChannels: 8, dChannels: 8 },
    augment: { xflip: true, translation: true },
    ...over
  })
  const dataset = await importDataset({ source, preprocess: config.preprocess, datasetsDir: join(home, 'datasets') })
  return (await createRun({ runsDir: join(home, 'runs'), config, dataset })).dir
}

const train = (runDir: string, extra: Partial<Parameters<typeof trainRun>[0]> = {}) =>
  trainRun({ runDir, datasetsDir: join(home, 'datasets'), ...extra })

async function finalWeights(runDir: string): Promise<number[]> {
  const ck = await loadCheckpoint(runDir)
  return ['g/rgb/kernel', 'd/out/kernel', 'ema/g/rgb/kernel', 'opt/g/rgb/kernel/m'].flatMap((k) => Array.from(ck.tensors[k]!.data.slice(0, 32)))
}

describe('trainRun', () => {
  it('trains a run end to end: metrics, fixed-seed samples from step 0, checkpoints, no tensor leak', async () => {
    const runDir = await newRun()
    const events: TrainerEvent[] = []
    const before = tf.memory().numTensors
    const run = await train(runDir, { emit: (e) => events.push(e) })
    expect(tf.memory().numTensors).toBe(before)
    expect(run.status).toBe('completed')
    expect(run.step).toBe(12)
    expect(run.backend?.used).toBe('wasm')
    expect((await readMetrics(runDir)).map((m) => m.step)).toEqual([2, 4, 6, 8, 10, 12])
    expect((await fsp.readdir(join(runDir, 'samples'))).sort()).toEqual(
      ['step-000000.png', 'step-000004.png', 'step-000008.png', 'step-000012.png']
    )
    expect(run.latestCheckpoint).toBe('step-000012')
    expect(events.filter((e) => e.type === 'sample')).toHaveLength(4)
    expect(events.find((e) => e.type === 'status' && e.status === 'completed')).toBeTruthy()
    const m = (await readMetrics(runDir))[0]!
    for (const k of ['gLoss', 'dLoss', 'dReal', 'dFake', 'imagesPerSec'] as const) expect(Number.isFinite(m[k])).toBe(true)
  })

  it('writes quality records every quality.every steps and at the last step, beside the losses', async () => {
    const runDir = await newRun({ steps: 10, quality: { every: 4, images: 8 } })
    const events: TrainerEvent[] = []
    await train(runDir, { emit: (e) => events.push(e) })
    const metrics = await readMetrics(runDir)
    const measured = metrics.filter((m) => m.quality)
    expect(measured.map((m) => m.step)).toEqual([4, 8, 10])
    for (const m of measured) {
      const q = m.quality!
      expect(q.count).toBe(8)
      expect(Number.isFinite(q.swd) && q.swd > 0).toBe(true)
      expect(Number.isFinite(q.kid)).toBe(true)
      expect(q.variety).toBeGreaterThanOrEqual(0)
      expect(q.memorisation).toBeGreaterThan(0)
      // Still an ordinary metric record: older readers see the losses they expect.
      expect(Number.isFinite(m.gLoss) && Number.isFinite(m.dLoss)).toBe(true)
    }
    // The live progress events carry the same records.
    const live = events.flatMap((e) => (e.type === 'progress' && e.progress.metric?.quality ? [e.progress.metric.step] : []))
    expect(live).toEqual([4, 8, 10])
  })

  it('trains a run saved before the quality setting existed (measured at the default interval) and one with it off', async () => {
    const old = await newRun({ steps: 4 })
    const json = JSON.parse(await fsp.readFile(join(old, 'run.json'), 'utf8'))
    delete json.config.quality
    await fsp.writeFile(join(old, 'run.json'), JSON.stringify(json))
    expect((await train(old)).status).toBe('completed')
    expect((await readMetrics(old)).filter((m) => m.quality).map((m) => m.step)).toEqual([4])

    const off = await newRun({ steps: 4, quality: { every: 0 } })
    await train(off)
    expect((await readMetrics(off)).some((m) => m.quality)).toBe(false)
  })

  it('stops cleanly with a checkpoint and resumes to exactly the uninterrupted result', async () => {
    const straight = await newRun({ seed: 77 })
    await train(straight)

    const interrupted = await newRun({ seed: 77 })
    const control = { stop: false, pause: false }
    const stopped = await train(interrupted, {
      control,
      emit: (e) => {
        if (e.type === 'progress' && e.progress.step === 6) control.stop = true
      }
    })
    expect(stopped.status).toBe('stopped')
    expect(stopped.step).toBe(6)
    expect(stopped.latestCheckpoint).toBe('step-000006')
    const resumed = await train(interrupted)
    expect(resumed.status).toBe('completed')
    expect(resumed.step).toBe(12)
    expect(await finalWeights(interrupted)).toEqual(await finalWeights(straight))
    expect((await readMetrics(interrupted)).map((m) => m.step)).toEqual([2, 4, 6, 8, 10, 12])
  })

  it('resumes from the previous good checkpoint when the newest is half-written', async () => {
    const runDir = await newRun({ steps: 8 })
    await train(runDir)
    await fsp.truncate(join(runDir, 'checkpoints', 'step-000008', 'tensors.bin'), 100)
    const logs: string[] = []
    const run = await train(runDir, { emit: (e) => e.type === 'log' && logs.push(e.line.message) })
    expect(logs.some((l) => /Skipping checkpoint step-000008/.test(l))).toBe(true)
    expect(logs.some((l) => /Resumed from checkpoint step-000004/.test(l))).toBe(true)
    expect(run.step).toBe(8)
  })

  it('with every checkpoint damaged: restarts from 0, keeps each new good checkpoint, moves the damaged aside, truncates the metrics', async () => {
    const runDir = await newRun({ steps: 12 })
    await train(runDir)
    const damagedNames = await listCheckpoints(runDir)
    expect(damagedNames).toEqual(['step-000012', 'step-000008', 'step-000004'])
    for (const name of damagedNames) await fsp.truncate(join(runDir, 'checkpoints', name, 'tensors.bin'), 100)
    // Resumed with a shorter total, so the run ends at step 8.
    const runJson = JSON.parse(await fsp.readFile(join(runDir, 'run.json'), 'utf8')) as { config: { steps: number } }
    runJson.config.steps = 8
    await fsp.writeFile(join(runDir, 'run.json'), JSON.stringify(runJson))
    const run = await train(runDir)
    expect(run.step).toBe(8)
    expect(await listCheckpoints(runDir)).toEqual(['step-000008', 'step-000004', 'step-000000'])
    expect((await fsp.readdir(join(runDir, 'checkpoints', 'damaged'))).sort()).toEqual([...damagedNames].sort())
    const steps = (await readMetrics(runDir)).map((m) => m.step)
    expect(steps).toEqual([2, 4, 6, 8]) // each logged step once, none past the run's step
    expect((await loadCheckpoint(runDir)).manifest.step).toBe(8)
  })

  it('pauses between steps and carries on when resumed', async () => {
    const runDir = await newRun({ steps: 8 })
    const control = { stop: false, pause: false }
    const statuses: string[] = []
    const run = await train(runDir, {
      control,
      emit: (e) => {
        if (e.type === 'progress' && e.progress.step === 3 && !statuses.includes('paused')) control.pause = true
        if (e.type === 'status') {
          statuses.push(e.status)
          if (e.status === 'paused') setTimeout(() => (control.pause = false), 150)
        }
      }
    })
    expect(statuses).toEqual(['running', 'paused', 'running', 'completed'])
    expect(run.step).toBe(8)
    expect(await readRun(runDir)).toMatchObject({ status: 'completed' })
  })

  it('stops with a clear message on a NaN loss and keeps the last good checkpoint', async () => {
    const runDir = await newRun({ steps: 12 })
    const original = Gan.prototype.trainStep
    let calls = 0
    const spy = vi.spyOn(Gan.prototype, 'trainStep').mockImplementation(function (this: Gan, real: tf.Tensor4D) {
      calls += 1
      const out = original.call(this, real)
      if (calls === 7) {
        out.dLoss.dispose()
        out.dLoss = tf.scalar(Number.NaN)
      }
      return out
    })
    try {
      const run = await train(runDir)
      expect(run.status).toBe('failed')
      expect(run.error?.code).toBe('diverged')
      expect(run.error?.message).toMatch(/diverged near step 8.*last good checkpoint \(step 4\) is kept/)
      expect(run.latestCheckpoint).toBe('step-000004')
      expect((await loadCheckpoint(runDir)).name).toBe('step-000004')
    } finally {
      spy.mockRestore()
    }
  })
})
