import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas, type Events, type JobProgress, type ParsedParams, type RequestName, type Results } from '../../../src/shared/contract'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { readPngText } from '../../../src/main/generate/png-text'
import { inProcessSpawner, until } from '../services/fakes'
import { makeTinyRun, type TinyRun } from './fixture'

let home: string
let studio: Studio
let run: TinyRun
let other: TinyRun
let spawner: ReturnType<typeof inProcessSpawner>

/** A request as the bridge runs it: params through the contract's schema, then the handler. */
function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-handlers-'))
  // Generate, walk and export run as jobs of a trainer child: here the real child code, in-process.
  spawner = inProcessSpawner({
    trainRun: () => Promise.reject(new Error('no training in these tests'))
  })
  studio = new Studio({ home, mode: 'browser', spawnTrainer: spawner.spawn, jobs: { idleMs: 50, cancelGraceMs: 60_000 } })
  await studio.prepare()
  run = await makeTinyRun(join(home, 'runs'), { steps: [100, 200] })
  other = await makeTinyRun(join(home, 'runs'), { overrides: { loss: { type: 'hinge' }, augment: { color: true } } })
})

afterAll(async () => {
  await studio.shutdown()
  await fsp.rm(home, { recursive: true, force: true })
})

describe('generate and compare handlers', () => {
  it('lists checkpoints, newest first', async () => {
    expect(await call('generate.checkpoints', { id: run.id })).toEqual([
      { name: 'step-000200', step: 200 },
      { name: 'step-000100', step: 100 }
    ])
  })

  it('previews as data URLs, saves into the run’s exports folder on request', async () => {
    const preview = await call('generate.images', { id: run.id, seeds: [1, 2] })
    expect(preview.images[0]!.url).toMatch(/^data:image\/png;base64,/)
    expect(preview).toMatchObject({ dir: null, step: 200, checkpoint: 'step-000200' })
    const saved = await call('generate.images', { id: run.id, seeds: [5], save: true, truncation: 0.5, checkpoint: 'step-000100' })
    expect(saved.dir).toBe('exports/images/step-000100-psi0.50')
    expect(saved.images[0]).toEqual({ seed: 5, url: 'exports/images/step-000100-psi0.50/seed-000005.png', file: 'exports/images/step-000100-psi0.50/seed-000005.png' })
    expect(readPngText(await fsp.readFile(join(run.dir, saved.images[0]!.file!)))).toMatchObject({ seed: '5', psi: '0.5', step: '100' })
  })

  it('keeps favourites in the run folder', async () => {
    expect(await call('generate.favorites', { id: run.id })).toEqual({ seeds: [] })
    expect(await call('generate.favorites', { id: run.id, seeds: [9, 2, 9] })).toEqual({ seeds: [2, 9] })
    expect(await call('generate.favorites', { id: run.id })).toEqual({ seeds: [2, 9] })
  })

  it('reports walk progress as jobs.progress under the caller’s job id', async () => {
    const seen: JobProgress[] = []
    const stop = studio.events.subscribe((event, payload) => {
      if (event === 'jobs.progress') seen.push(payload as Events['jobs.progress'])
    })
    const r = await call('generate.walk', { id: run.id, seeds: [1, 2], seconds: 1, fps: 4, format: 'gif', jobId: 'walk-1' })
    stop()
    expect(r).toEqual({ file: 'exports/walks/walk-step-000200-1-2.gif', frames: 4 })
    expect(seen.every((p) => p.jobId === 'walk-1' && p.kind === 'walk')).toBe(true)
    expect(seen.at(-1)).toMatchObject({ done: 4, total: 4 })
  })

  it('cancels a walk by its job id: the request fails as cancelled and no file is left', async () => {
    const started = new Promise<void>((resolve) => {
      const stop = studio.events.subscribe((event, payload) => {
        if (event === 'jobs.progress' && (payload as JobProgress).jobId === 'walk-long' && (payload as JobProgress).done > 0) {
          stop()
          resolve()
        }
      })
    })
    const walking = call('generate.walk', { id: run.id, seeds: [3, 4], seconds: 120, fps: 60, format: 'png', jobId: 'walk-long' })
    const outcome = walking.then(
      () => 'finished',
      (err: { code?: string }) => err.code
    )
    await started
    expect(studio.jobs.jobs()).toEqual(['walk-long'])
    expect(await call('jobs.cancel', { jobId: 'walk-long' })).toEqual({ cancelled: true })
    expect(await outcome).toBe('cancelled')
    expect(studio.jobs.jobs()).toEqual([])
    expect(await call('jobs.cancel', { jobId: 'walk-long' })).toEqual({ cancelled: false })
    const walks = await fsp.readdir(join(run.dir, 'exports', 'walks'))
    expect(walks.filter((name) => name.includes('-3-4'))).toEqual([])
  })

  it('answers another job while a walk renders in the same child, and the walk stops at the next batch', async () => {
    let latest: JobProgress | null = null
    const stop = studio.events.subscribe((event, payload) => {
      if (event === 'jobs.progress' && (payload as JobProgress).jobId === 'walk-gif') latest = payload as JobProgress
    })
    const walking = call('generate.walk', { id: run.id, seeds: [8, 9], seconds: 120, fps: 60, format: 'gif', jobId: 'walk-gif' }).then(
      () => 'finished',
      (err: { code?: string }) => err.code
    )
    await until(() => expect(latest?.done).toBeGreaterThan(0), 60_000)
    const images = await call('generate.images', { id: run.id, seeds: [12] })
    expect(images.images).toHaveLength(1)
    // The preview came back while frames were still rendering.
    expect(latest!.label).toBe('Rendering frames')
    expect(latest!.done).toBeLessThan(7200)
    await call('jobs.cancel', { jobId: 'walk-gif' })
    expect(await walking).toBe('cancelled')
    stop()
    const walks = await fsp.readdir(join(run.dir, 'exports', 'walks'))
    expect(walks.filter((name) => name.includes('-8-9'))).toEqual([])
  })

  it('runs every tensor job in one trainer child, not in this process', async () => {
    const before = spawner.links.length
    await call('generate.images', { id: run.id, seeds: [1] })
    await call('generate.images', { id: run.id, seeds: [2] })
    // One warm child answered both (the first call may have reused one still warm from before).
    expect(spawner.links.length - before).toBeLessThanOrEqual(1)
    expect(spawner.links.length).toBeGreaterThan(0)
  })

  it('exports the model and names its page inside the run folder', async () => {
    const r = await call('export.model', { id: run.id })
    expect(r).toMatchObject({ dir: join(run.dir, 'exports', 'model-step-000200'), page: 'exports/model-step-000200/index.html', step: 200 })
  })

  it('compares runs by id with the library’s summaries', async () => {
    const r = await call('compare.runs', { ids: [run.id, other.id] })
    expect(r.runs.map((s) => s.id)).toEqual([run.id, other.id])
    expect(r.configDiff.map((d) => d.key)).toEqual(['loss.type', 'augment.color'])
  })

  it('refuses malformed or unknown input with readable errors', async () => {
    expect(requestSchemas['generate.images'].safeParse({ id: run.id, seeds: [1], truncation: 3 }).success).toBe(false)
    expect(requestSchemas['generate.images'].safeParse({ id: run.id, seeds: [1], checkpoint: '../x' }).success).toBe(false)
    expect(requestSchemas['generate.walk'].safeParse({ id: run.id, seeds: [1] }).success).toBe(false)
    expect(requestSchemas['compare.runs'].safeParse({ ids: [run.id] }).success).toBe(false)
    expect(requestSchemas['export.model'].safeParse({ id: '../../etc' }).success).toBe(false)
    await expect(call('generate.images', { id: 'no-such-run', seeds: [1] })).rejects.toMatchObject({ code: 'not-found' })
    await expect(call('generate.checkpoints', { id: 'no-such-run' })).rejects.toMatchObject({ code: 'not-found' })
  })
})
