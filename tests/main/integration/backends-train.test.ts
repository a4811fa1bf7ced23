import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema, type BackendName } from '@shared/config'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import { createRun, readMetrics } from '../../../src/main/trainer/run/runs'
import { probeBackends } from '../../../src/main/trainer/tf/backends'
import { trainRun } from '../../../src/main/trainer/train'
import { makeImageFolder } from '../../helpers/images'

/**
 * End to end on generated images with every backend this machine can run: import, train a tiny
 * model, write samples, metrics and checkpoints. A backend that is unavailable here is reported
 * once, with the reason, and must have one.
 */
let home: string
let source: string
const available: Partial<Record<BackendName, string | null>> = {}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'gs-backends-'))
  source = join(home, 'images')
  await makeImageFolder(source, { count: 10, formats: ['png', 'jpeg', 'webp'] })
  for (const s of await probeBackends()) available[s.name] = s.available ? null : (s.reason ?? 'unavailable')
})

describe.each(['wasm', 'webgpu', 'tensorflow', 'cpu'] as const)('training end to end on %s', (backend) => {
  it('trains, logs finite losses and writes a checkpoint', async (ctx) => {
    const why = available[backend]
    if (why !== null) {
      expect(why, `${backend} is unavailable but gives no reason`).toBeTruthy()
      console.log(`[integration] ${backend}: not run on this machine: ${why}`)
      ctx.skip()
      return
    }
    const config = RunConfigSchema.parse({
      source,
      backend,
      steps: 4,
      batchSize: 2,
      logEvery: 2,
      sampleEvery: 4,
      checkpointEvery: 4,
      gridSize: 16,
      model: { latentDim: 8, gChannels: 8, dChannels: 8 }
    })
    const dataset = await importDataset({ source, preprocess: config.preprocess, datasetsDir: join(home, 'datasets') })
    const { dir } = await createRun({ runsDir: join(home, 'runs'), config, dataset })
    const run = await trainRun({ runDir: dir, datasetsDir: join(home, 'datasets'), allowCpu: true })
    expect(run.status).toBe('completed')
    expect(run.backend?.used).toBe(backend)
    expect(tf.getBackend()).toBe(backend)
    const metrics = await readMetrics(dir)
    expect(metrics.map((m) => m.step)).toEqual([2, 4])
    for (const m of metrics) expect(Number.isFinite(m.gLoss) && Number.isFinite(m.dLoss)).toBe(true)
    expect(run.latestCheckpoint).toBe('step-000004')
  }, 600_000)
})
