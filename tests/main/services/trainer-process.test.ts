/**
 * The trainer host with the real child entry (src/main/trainer/process.ts, run through tsx as a
 * plain Node child — what `gan-studio serve` does with out/main/trainer-process.js) and the real
 * training loop: a tiny run end to end, a child killed with SIGKILL mid-run (marked failed,
 * resumable, resumed from its checkpoint), and a shutdown that checkpoints.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunConfigInput } from '@shared/config'
import type { RunDetail } from '@shared/contract'
import type { RunSummary } from '@shared/runs'
import { createDispatcher, type Dispatch } from '../../../src/main/bridge/dispatch'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { nodeTrainerSpawner } from '../../../src/main/services/trainer-spawn'
import type { SpawnTrainer } from '../../../src/main/services/child-connection'
import { readRun } from '../../../src/main/trainer/run/runs'
import { makeImageFolder } from '../../helpers/images'
import { recorder, until } from './fakes'

const root = resolve(__dirname, '../../..')
let base: string
let source: string
let studio: Studio
let dispatch: Dispatch
const events = recorder()
const pids: number[] = []

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-trainer-proc-')))
  source = join(base, 'images')
  await makeImageFolder(source, { count: 10, formats: ['png', 'jpeg'] })
  const real = nodeTrainerSpawner({
    entry: join(root, 'src/main/trainer/process.ts'),
    execArgv: ['--import', 'tsx'],
    env: { TSX_TSCONFIG_PATH: join(root, 'tsconfig.node.json') }
  })
  const spawn: SpawnTrainer = () => {
    const link = real()
    link.onMessage((m) => {
      if (m.type === 'ready') pids.push(m.pid)
    })
    return link
  }
  studio = new Studio({ home: join(base, 'home'), mode: 'browser', spawnTrainer: spawn, trainer: { progressIntervalMs: 50 } })
  await studio.prepare()
  studio.events.subscribe(events.emit)
  dispatch = createDispatcher(handlers, studio)
})
afterAll(async () => {
  await studio?.shutdown({ timeoutMs: 10_000 })
  rmSync(base, { recursive: true, force: true })
})

async function call<T>(name: string, params: unknown): Promise<T> {
  const reply = await dispatch(name, params)
  if (!reply.ok) throw new Error(`${name}: ${reply.error.code}: ${reply.error.message}`)
  return reply.result as T
}

function tiny(over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
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
  }
}

const statusesOf = (id: string): string[] => events.of('train.status').filter((s) => s.runId === id).map((s) => s.status)

describe('the trainer host with the real trainer process', () => {
  it('trains a tiny run to completion, streaming progress and samples', async () => {
    const started = await call<RunSummary>('runs.start', { config: tiny({ name: 'Tiny' }) })
    expect(started.name).toBe('Tiny')
    expect(started.status).toBe('running')
    await until(() => expect(statusesOf(started.id)).toContain('completed'), 120_000)
    const detail = await call<RunDetail>('runs.get', { id: started.id })
    expect(detail.summary).toMatchObject({ status: 'completed', step: 8, steps: 8, backend: 'wasm' })
    expect(detail.samples.map((s) => s.step)).toEqual([0, 4, 8])
    expect(events.of('train.sample').filter((s) => s.runId === started.id).map((s) => s.step)).toEqual([0, 4, 8])
    const steps = events.of('train.progress').filter((p) => p.runId === started.id).map((p) => p.step)
    expect(steps.at(-1)).toBe(8)
    expect((await call<unknown[]>('runs.metrics', { id: started.id, sinceStep: -1 })).length).toBe(4)
    // Every logged metric reached the UI as a live chart point, despite the throttling.
    const live = events.of('train.progress').filter((p) => p.runId === started.id && p.metric).map((p) => p.metric!.step)
    expect(live).toEqual([2, 4, 6, 8])
    expect(studio.trainer.jobs()).toEqual([])
  }, 180_000)

  it('a child killed mid-run marks the run failed and resumable; resume continues from the checkpoint', async () => {
    const started = await call<RunSummary>('runs.start', { config: tiny({ steps: 100_000, checkpointEvery: 4, sampleEvery: 1000 }) })
    const dir = studio.runs.dirOf(started.id)
    await until(async () => expect((await readRun(dir)).latestCheckpointStep).toBeGreaterThanOrEqual(8), 120_000)
    const pid = pids.at(-1)!
    process.kill(pid, 'SIGKILL')

    await until(() => expect(statusesOf(started.id).at(-1)).toBe('failed'), 30_000)
    const failure = events.of('train.status').filter((s) => s.runId === started.id).at(-1)!
    expect(failure.error?.code).toBe('crashed')
    expect(failure.error?.message).toMatch(/SIGKILL/)
    expect(failure.error?.message).toMatch(/Resume continues from its last checkpoint \(step \d+\)/)
    const run = await readRun(dir)
    expect(run.status).toBe('failed')
    const listed = (await call<RunSummary[]>('runs.list', {})).find((r) => r.id === started.id)!
    expect(listed).toMatchObject({ status: 'failed', resumable: true })

    const checkpointStep = run.latestCheckpointStep
    await call<RunSummary>('runs.resume', { id: started.id, steps: checkpointStep + 4 })
    await until(() => expect(statusesOf(started.id).at(-1)).toBe('completed'), 120_000)
    expect(events.of('train.log').some((l) => l.runId === started.id && /Resumed from checkpoint/.test(l.message))).toBe(true)
    expect((await readRun(dir)).step).toBe(checkpointStep + 4)
  }, 240_000)

  it('shutting down (quitting) stops a running job with a checkpoint', async () => {
    const started = await call<RunSummary>('runs.start', { config: tiny({ steps: 100_000, checkpointEvery: 10_000 }) })
    await until(() => expect(events.of('train.progress').filter((p) => p.runId === started.id && p.step >= 3).length).toBeGreaterThan(0), 120_000)
    await studio.shutdown({ timeoutMs: 60_000 })
    const run = await readRun(studio.runs.dirOf(started.id))
    expect(run.status).toBe('stopped')
    expect(run.latestCheckpointStep).toBe(run.step)
    expect(run.step).toBeGreaterThanOrEqual(3)
  }, 180_000)
})
