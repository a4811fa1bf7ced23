import { promises as fsp } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema, type RunConfigInput } from '@shared/config'
import { main } from '../../../src/main/cli/index'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import type { TrainerEvent } from '../../../src/main/trainer/events'
import { loadCheckpoint, readCheckpoint } from '../../../src/main/trainer/run/checkpoint'
import { attachFineTuneStart, FINE_TUNE_START, planFineTune } from '../../../src/main/trainer/run/fine-tune'
import { createRun, readRun } from '../../../src/main/trainer/run/runs'
import { trainRun } from '../../../src/main/trainer/train'
import { useWasm } from '../../helpers/backend'
import { makeImageFolder } from '../../helpers/images'

let home: string
let bigFolder: string
let smallFolder: string
let baseDir: string
const datasetsDir = (): string => join(home, 'datasets')

function config(source: string, over: Partial<RunConfigInput> = {}) {
  return RunConfigSchema.parse({
    source,
    backend: 'wasm',
    steps: 8,
    batchSize: 4,
    logEvery: 2,
    sampleEvery: 4,
    checkpointEvery: 4,
    gridSize: 16,
    model: { latentDim: 16, gChannels: 8, dChannels: 8 },
    ...over
  })
}

async function newRun(source: string, over: Partial<RunConfigInput> = {}): Promise<string> {
  const c = config(source, over)
  const dataset = await importDataset({ source, preprocess: c.preprocess, datasetsDir: datasetsDir() })
  return (await createRun({ runsDir: join(home, 'runs'), config: c, dataset })).dir
}

beforeAll(async () => {
  await useWasm()
  home = await mkdtemp(join(tmpdir(), 'gs-finetune-'))
  bigFolder = join(home, 'big')
  smallFolder = join(home, 'small')
  await makeImageFolder(bigFolder, { count: 12, formats: ['png'] })
  await makeImageFolder(smallFolder, { count: 5, formats: ['png'] })
  baseDir = await newRun(bigFolder, { name: 'Base landscapes' })
  await trainRun({ runDir: baseDir, datasetsDir: datasetsDir() })
})

afterAll(async () => {
  await fsp.rm(home, { recursive: true, force: true })
})

describe('fine-tune from a run', () => {
  it('refuses another family or resolution, saying what differs', async () => {
    await expect(planFineTune(baseDir, config(smallFolder, { preprocess: { resolution: 64 } }))).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/Cannot fine-tune from "Base landscapes": its model differs \(32 px, not 64 px\)/)
    })
    await expect(planFineTune(baseDir, config(smallFolder, { model: { arch: 'lite' } }))).rejects.toMatchObject({
      message: expect.stringMatching(/family dcgan, not lite/)
    })
    const fresh = await newRun(smallFolder)
    await expect(planFineTune(fresh, config(smallFolder))).rejects.toMatchObject({ message: expect.stringMatching(/has no checkpoint yet/) })
  })

  it('takes the base model settings, or its family and size when the person did not choose them', async () => {
    const plan = await planFineTune(baseDir, config(smallFolder, { model: { gChannels: 32, latentDim: 64 } }))
    expect(plan.config.model).toMatchObject({ gChannels: 8, latentDim: 16, arch: 'dcgan' })
    expect(plan.from).toMatchObject({ name: 'Base landscapes', step: 8, checkpoint: 'step-000008' })
    const inherited = await planFineTune(baseDir, config(smallFolder, { model: { arch: 'lite' }, preprocess: { resolution: 64 } }), { inherit: { arch: true, resolution: true } })
    expect(inherited.config.model.arch).toBe('dcgan')
    expect(inherited.config.preprocess.resolution).toBe(32)
  })

  it('the new run starts with the base weights and a fresh optimizer, records where it began, and trains on', async () => {
    const plan = await planFineTune(baseDir, config(smallFolder, { steps: 4, augment: { xflip: true, translation: true, color: true } }))
    const dataset = await importDataset({ source: smallFolder, preprocess: plan.config.preprocess, datasetsDir: datasetsDir() })
    const { dir } = await createRun({ runsDir: join(home, 'runs'), config: plan.config, dataset })
    await attachFineTuneStart(dir, plan)
    expect((await readRun(dir)).fineTunedFrom).toEqual(plan.from)
    await readCheckpoint(join(dir, FINE_TUNE_START), 'step-000008')

    const events: TrainerEvent[] = []
    const run = await trainRun({ runDir: dir, datasetsDir: datasetsDir(), emit: (e) => events.push(e) })
    expect(run.status).toBe('completed')
    expect(run.fineTunedFrom).toEqual(plan.from)
    expect(events.some((e) => e.type === 'log' && /Fine-tuning from "Base landscapes" \(step 8\)/.test(e.line.message))).toBe(true)

    const base = await loadCheckpoint(baseDir, 'step-000008')
    const start = await readCheckpoint(dir, 'step-000000')
    for (const name of ['g/dense/kernel', 'd/out/kernel', 'ema/g/rgb/kernel']) expect(Array.from(start.tensors[name]!.data)).toEqual(Array.from(base.tensors[name]!.data))
    expect(start.manifest.gOptStep).toBe(0)
    expect(Array.from(start.tensors['opt/g/dense/kernel/m']!.data).every((v) => v === 0)).toBe(true)
    expect(Array.from(base.tensors['opt/g/dense/kernel/m']!.data).some((v) => v !== 0)).toBe(true)
    const end = await loadCheckpoint(dir)
    expect(end.manifest.step).toBe(4)
    expect(Array.from(end.tensors['g/dense/kernel']!.data)).not.toEqual(Array.from(base.tensors['g/dense/kernel']!.data))

    // it travels: the base can go, the fine-tuned run still resumes from its own folder
    const copy = join(home, 'moved', 'run')
    await fsp.cp(dir, copy, { recursive: true })
    await fsp.rm(join(copy, 'checkpoints'), { recursive: true })
    await fsp.mkdir(join(copy, 'checkpoints'))
    const again = await trainRun({ runDir: copy, datasetsDir: datasetsDir() })
    expect(again.step).toBe(4)
    expect(again.fineTunedFrom?.checkpoint).toBe(base.name)
  })

  it('CLI: train --from fine-tunes; a mismatch is one line and exit code 2', async () => {
    const out: string[] = []
    const err: string[] = []
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), tty: false }
    const runs = join(home, 'cli-runs')
    expect(await main(['train', smallFolder, '--from', baseDir, '--resolution', '64', '--out', runs], io)).toBe(2)
    expect(err).toHaveLength(1)
    expect(err[0]).toMatch(/^gan-studio train: Cannot fine-tune from "Base landscapes": its model differs \(32 px, not 64 px\)/)
    err.length = 0
    expect(await main(['train', smallFolder, '--from-checkpoint', 'step-000004'], io)).toBe(2)
    expect(err[0]).toMatch(/--from-checkpoint needs --from/)
    err.length = 0
    expect(await main(['train', smallFolder, '--from', '/no/such/run'], io)).toBe(2)
    expect(err[0]).toMatch(/No run at \/no\/such\/run/)
    err.length = 0
    const code = await main(['train', smallFolder, '--from', baseDir, '--from-checkpoint', 'step-000004', '--steps', '2', '--backend', 'wasm', '--batch', '4', '--out', runs], io)
    expect(err).toEqual([])
    expect(code).toBe(0)
    expect(out.join('\n')).toMatch(/Fine-tuning from "Base landscapes" at step 4 \(dcgan, 32 px\)/)
    const [id] = await fsp.readdir(runs)
    const run = await readRun(join(runs, id!))
    expect(run.fineTunedFrom).toMatchObject({ name: 'Base landscapes', step: 4, checkpoint: 'step-000004' })
    expect(run.config.augment).toMatchObject({ xflip: true, translation: true, color: true })
    expect(run.config.model.gChannels).toBe(8)
  })
})
