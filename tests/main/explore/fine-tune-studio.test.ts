import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas } from '@shared/contract'
import { RunConfigSchema } from '@shared/config'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { readRun } from '../../../src/main/trainer/run/runs'
import { makeImageFolder } from '../../helpers/images'
import { fakeSpawner } from '../services/fakes'
import { makeTinyRun } from '../generate/fixture'

let base: string
let studio: Studio
let folder: string

beforeAll(async () => {
  await tf.setBackend('cpu')
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-ft-studio-')))
  studio = new Studio({ home: join(base, 'home'), mode: 'browser', spawnTrainer: fakeSpawner().spawn })
  await studio.prepare()
  folder = join(base, 'few')
  await makeImageFolder(folder, { count: 3 })
})
afterAll(async () => {
  await studio.shutdown({ timeoutMs: 20 })
  rmSync(base, { recursive: true, force: true })
})

describe('runs.start with from (the New run page’s “Start from”)', () => {
  it('starts a fine-tune that records its base; refuses a different resolution before importing anything', async () => {
    const tiny = await makeTinyRun(studio.runs.dir, { steps: [100] })
    const start = (config: unknown, from: unknown) => handlers['runs.start'](requestSchemas['runs.start'].parse({ config, from }), studio)
    await expect(start(RunConfigSchema.parse({ source: folder, preprocess: { resolution: 64 } }), { id: tiny.id })).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/its model differs \(32 px, not 64 px\)/)
    })
    expect(await studio.datasets.list()).toEqual([])
    const summary = await start(RunConfigSchema.parse({ source: folder, preprocess: { resolution: 32 }, model: { gChannels: 64 } }), { id: tiny.id })
    const run = await readRun(studio.runs.dirOf(summary.id))
    expect(run.fineTunedFrom).toEqual({ run: tiny.id, name: run.fineTunedFrom!.name, step: 100, checkpoint: 'step-000100' })
    expect(run.config.model.gChannels).toBe(8)
    await expect(start(RunConfigSchema.parse({ source: folder }), { id: 'no-such-run' })).rejects.toMatchObject({ code: 'not-found' })
  })
})
