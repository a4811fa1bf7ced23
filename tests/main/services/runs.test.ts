import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import type { DatasetSummary } from '@shared/datasets'
import type { RunSummary } from '@shared/runs'
import { INTERRUPTED, presentRun, resumeStep } from '../../../src/main/services/runs'
import { saveCheckpoint } from '../../../src/main/trainer/run/checkpoint'
import { Studio } from '../../../src/main/services/studio'
import { createRun, readRun, updateRun } from '../../../src/main/trainer/run/runs'
import { makeImageFolder } from '../../helpers/images'
import { fakeRun, fakeSpawner, recorder, tick, until, type FakeChild } from './fakes'

let base: string
let studio: Studio
let children: FakeChild[]
const events = recorder()

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-runs-')))
  const spawner = fakeSpawner()
  children = spawner.children
  studio = new Studio({ home: join(base, 'home'), mode: 'browser', spawnTrainer: spawner.spawn })
  await studio.prepare()
  studio.events.subscribe(events.emit)
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

const dataset = { id: 'ds-1', name: 'cats', source: '/pics/cats', count: 10 } as DatasetSummary

async function makeRun(patch: Parameters<typeof updateRun>[1] = {}): Promise<string> {
  const config = RunConfigSchema.parse({ source: '/pics/cats', steps: 100 })
  const { dir, run } = await createRun({ runsDir: studio.runs.dir, config, dataset })
  if (Object.keys(patch).length) await updateRun(dir, patch)
  return run.id
}

function checkpointMeta(step: number) {
  const config = RunConfigSchema.parse({ source: '/pics/cats', steps: 100 })
  return { step, imagesSeen: step * 4, trainingMs: step, appVersion: 'test', config, rng: [1, 2, 3, 4] as [number, number, number, number], gOptStep: step, dOptStep: step }
}

function summary(patch: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'r', name: 'r', dir: '/r', status: 'stopped', step: 10, steps: 100, createdAt: '', updatedAt: '', datasetName: 'd',
    resolution: 32, backend: null, thumbnail: null, resumable: true, tags: [], note: '', error: null, ...patch
  }
}

describe('presentRun', () => {
  it('a run left `running` with no job is shown failed (interrupted) and keeps resumable', () => {
    expect(presentRun(summary({ status: 'running', resumable: true }), null)).toMatchObject({ status: 'failed', error: INTERRUPTED, resumable: true })
    expect(presentRun(summary({ status: 'running', resumable: false }), null).resumable).toBe(false)
  })
  it('other statuses without a job are shown as on disk', () => {
    for (const status of ['paused', 'stopped', 'completed', 'failed'] as const) {
      expect(presentRun(summary({ status }), null).status).toBe(status)
    }
  })
  it('a live job wins: its state and newest step', () => {
    const job = { runId: 'r', state: 'running' as const, position: 0, step: 42 }
    expect(presentRun(summary({ status: 'failed', error: INTERRUPTED }), job)).toMatchObject({ status: 'running', step: 42, error: null, resumable: false })
    expect(presentRun(summary(), { ...job, state: 'paused' })).toMatchObject({ status: 'paused', resumable: true })
    expect(presentRun(summary(), { ...job, state: 'queued', step: null })).toMatchObject({ status: 'running', step: 10 })
  })
})

describe('RunLibrary', () => {
  it('lists a crashed run as failed and resumable; stop clears it', async () => {
    const id = await makeRun({ status: 'running', step: 50, latestCheckpoint: 'step-000050', latestCheckpointStep: 50 })
    const listed = (await studio.runs.list()).find((r) => r.id === id)!
    expect(listed).toMatchObject({ status: 'failed', resumable: true, error: { code: 'crashed' } })
    expect((await studio.runs.get(id)).run.status).toBe('failed')
    expect((await studio.runs.stop(id)).status).toBe('stopped')
    expect((await readRun(studio.runs.dirOf(id))).status).toBe('stopped')
    expect(events.of('train.status').at(-1)).toEqual({ runId: id, status: 'stopped', error: null })
  })

  it('resume validates the step total and updates the config for a new total', async () => {
    const done = await makeRun({ status: 'completed', step: 100 })
    await saveCheckpoint(studio.runs.dirOf(done), checkpointMeta(100), { t: { shape: [2], data: new Float32Array([1, 2]) } })
    await expect(studio.runs.resume(done)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/finished its 100 steps/) })
    await expect(studio.runs.resume(done, 80)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/already at step 100/) })
    const resumed = await studio.runs.resume(done, 150)
    expect(resumed).toMatchObject({ status: 'running', steps: 150 })
    expect(studio.trainer.job(done)?.state).toBe('starting')
    await studio.runs.stop(done)
    const child = children.at(-1)!
    child.post({ type: 'ready', pid: 1 })
    await tick()
    child.post({ type: 'done', jobId: child.jobId, output: fakeRun({ id: done, status: 'stopped' }) })
    await until(() => expect(studio.trainer.jobs()).toEqual([]))
  })

  it('a rename while training survives the training loop rewriting run.json', async () => {
    const id = await makeRun()
    await studio.runs.resume(id)
    const child = children.at(-1)!
    child.post({ type: 'ready', pid: 1 })
    await tick()
    const renamed = await studio.runs.rename(id, 'Better name')
    expect(renamed.name).toBe('Better name')
    // The loop writes its stale copy back, as trainRun does at a checkpoint:
    await updateRun(studio.runs.dirOf(id), { name: 'old name' })
    expect((await studio.runs.summary(id)).name).toBe('Better name')
    await expect(studio.runs.delete(id)).rejects.toMatchObject({ code: 'busy' })
    child.post({ type: 'done', jobId: child.jobId, output: fakeRun({ id, status: 'stopped' }) })
    await until(() => expect(studio.trainer.jobs()).toEqual([]))
    expect((await readRun(studio.runs.dirOf(id))).name).toBe('Better name')
    await studio.runs.delete(id)
    await expect(studio.runs.summary(id)).rejects.toMatchObject({ code: 'not-found' })
  })

  it('resume goes by the newest good checkpoint, not by a step that run.json claims', async () => {
    const id = await makeRun({ status: 'stopped', step: 999_999 })
    await saveCheckpoint(studio.runs.dirOf(id), checkpointMeta(60), { t: { shape: [2], data: new Float32Array([1, 2]) } })
    expect(await resumeStep(studio.runs.dirOf(id))).toBe(60)
    expect((await studio.runs.resume(id)).status).toBe('running')
    const child = children.at(-1)!
    child.post({ type: 'ready', pid: 1 })
    await tick()
    child.post({ type: 'done', jobId: child.jobId, output: fakeRun({ id, status: 'stopped' }) })
    await until(() => expect(studio.trainer.jobs()).toEqual([]))
  })

  it('tags are de-duplicated; a dataset used by a queued run cannot be deleted', async () => {
    const folder = join(base, 'pics')
    await makeImageFolder(folder, { count: 3 })
    const ds = await studio.datasets.import(folder, { resolution: 32, crop: 'center', background: '#ffffff' })
    const config = RunConfigSchema.parse({ source: folder, steps: 100 })
    const { run } = await createRun({ runsDir: studio.runs.dir, config, dataset: ds })
    expect((await studio.runs.update(run.id, { tags: ['a', 'b', 'a'], note: 'n' })).tags).toEqual(['a', 'b'])
    await studio.runs.resume(run.id)
    await expect(studio.datasets.delete(ds.id)).rejects.toMatchObject({ code: 'busy' })
    await studio.shutdown({ timeoutMs: 20 })
    await studio.datasets.delete(ds.id)
    expect(await studio.datasets.list()).toEqual([])
  })
})
