import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas, type Events, type ParsedParams, type RequestName, type Results } from '../../../src/shared/contract'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import type { TensorJobContext } from '../../../src/main/generate/jobs'
import { inProcessSpawner, until } from '../services/fakes'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let home: string
let studio: Studio
let run: TinyRun
let spawner: ReturnType<typeof inProcessSpawner>

function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-explore-handlers-'))
  // Rendering runs as jobs of a trainer child: here the real child code, in-process.
  spawner = inProcessSpawner({ trainRun: () => Promise.reject(new Error('no training in these tests')) })
  studio = new Studio({ home, mode: 'browser', spawnTrainer: spawner.spawn, jobs: { idleMs: 50, cancelGraceMs: 60_000 } })
  await studio.prepare()
  run = await makeTinyRun(join(home, 'runs'), { steps: [100, 200] })
})

afterAll(async () => {
  await studio.shutdown()
  await fsp.rm(home, { recursive: true, force: true })
})

describe('explore handlers', () => {
  it('timelapse: writes under the run and reports progress under the caller’s job id', async () => {
    const seen: Events['jobs.progress'][] = []
    const off = studio.events.subscribe((event, p) => {
      if (event === 'jobs.progress') seen.push(p as Events['jobs.progress'])
    })
    const r = await call('explore.timelapse', { id: run.id, format: 'webp', jobId: 'lapse-1' })
    off()
    expect(r).toEqual({ file: 'exports/timelapse/timelapse.webp', frames: 2, steps: [100, 200] })
    await fsp.access(join(run.dir, r.file))
    expect(seen.every((p) => p.jobId === 'lapse-1' && p.kind === 'timelapse')).toBe(true)
    expect(seen.at(-1)).toMatchObject({ label: 'Done', done: 2, total: 2 })
  })

  it('collections: create, add seeds and a latent, remove, export, delete; the schema refuses bad items', async () => {
    let f = await call('explore.collection', { id: run.id, action: 'add', name: 'Picks', create: true, items: [{ seed: 7 }, { latent: Array(16).fill(0.5), label: 'mine' }] })
    expect(f.collections[0]!.items.map((i) => i.seed)).toEqual([7, null])
    f = await call('explore.collection', { id: run.id, action: 'remove', name: 'Picks', itemIds: [f.collections[0]!.items[0]!.id] })
    expect(f.collections[0]!.items).toHaveLength(1)
    const exported = await call('explore.exportCollection', { id: run.id, name: 'Picks' })
    expect(exported).toMatchObject({ dir: 'exports/collections/picks/step-000200-psi1.00', count: 1, step: 200 })
    expect(await call('explore.collections', { id: run.id })).toEqual(f)
    f = await call('explore.collection', { id: run.id, action: 'delete', name: 'Picks' })
    expect(f.collections).toEqual([])
    expect(() => requestSchemas['explore.collection'].parse({ id: run.id, action: 'add', name: 'X', items: [{ seed: 1, latent: [1] }] })).toThrow()
    expect(() => requestSchemas['explore.collection'].parse({ id: run.id, action: 'explode', name: 'X' })).toThrow()
    expect(() => requestSchemas['explore.collection'].parse({ id: run.id, action: 'rename', name: 'X' })).toThrow(/newName/)
    expect(() => requestSchemas['explore.collection'].parse({ id: run.id, action: 'add', name: 'X' })).toThrow(/items/)
    await expect(call('explore.collection', { id: run.id, action: 'add', name: 'Picks', items: [{ latent: [1, 2] }], create: true })).rejects.toMatchObject({ code: 'bad-input' })
  })

  it('generate.walk takes keyframes with their own timing (seeds and latents); the schema wants one kind', async () => {
    const r = await call('generate.walk', {
      id: run.id,
      keyframes: [{ seed: 1, seconds: 1 }, { latent: Array(16).fill(0.2), seconds: 0.5, easing: 'linear' }],
      fps: 8,
      format: 'webp'
    })
    expect(r.frames).toBe(12)
    expect(() => requestSchemas['generate.walk'].parse({ id: run.id, seeds: [1, 2], keyframes: [{ seed: 1 }, { seed: 2 }] })).toThrow(/keyframe seeds or keyframes/)
    expect(() => requestSchemas['generate.walk'].parse({ id: run.id, keyframes: [{ seed: 1, latent: [1] }, { seed: 2 }] })).toThrow(/a seed or a latent/)
    expect(() => requestSchemas['generate.walk'].parse({ id: run.id })).toThrow()
  })

  it('render and variations run in a trainer child and answer with images and latents', async () => {
    const before = spawner.links.length
    const rendered = await call('explore.render', { id: run.id, items: [{ seed: 3 }, { latent: Array(16).fill(0.1) }] })
    expect(rendered.images).toHaveLength(2)
    expect(rendered.images.every((u) => u.startsWith('data:image/png;base64,'))).toBe(true)
    expect(rendered.step).toBe(200)
    const v = await call('explore.variations', { id: run.id, center: { seed: 3 }, count: 4, strength: 0.5 })
    expect(v.neighbours).toHaveLength(4)
    expect(v.center.latent).toHaveLength(16)
    expect(v.center.image).toBe(rendered.images[0])
    expect(await call('explore.variations', { id: run.id, center: { seed: 3 }, count: 4, strength: 0.5 })).toEqual(v)
    // The studio's side started (or reused) a child for them; nothing rendered in this process's handler.
    expect(spawner.links.length).toBeGreaterThanOrEqual(Math.max(1, before))
    await expect(call('explore.variations', { id: 'no-such-run', center: { seed: 1 } })).rejects.toMatchObject({ code: 'not-found' })
  })
})

describe('explore jobs are cancellable through jobs.cancel', () => {
  it('a variations job stops when cancelled, and the request answers "cancelled"', async () => {
    const started: unknown[] = []
    const slow = (input: unknown, ctx: TensorJobContext): Promise<never> =>
      new Promise((_, reject) => {
        started.push(input)
        ctx.signal.addEventListener('abort', () => reject(Object.assign(new Error('stopped'), { code: 'cancelled' })))
      })
    const fake = inProcessSpawner({ variations: slow, exportCollection: slow })
    const other = new Studio({ home, mode: 'browser', spawnTrainer: fake.spawn, jobs: { idleMs: 50, cancelGraceMs: 60_000 } })
    await other.prepare()
    try {
      const call2 = <K extends RequestName>(name: K, params: unknown): Promise<Results[K]> =>
        (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(requestSchemas[name].parse(params) as ParsedParams<K>, other)
      const pending = call2('explore.variations', { id: run.id, center: { seed: 5 }, jobId: 'vary-1' })
      const settled = pending.catch((e: unknown) => e)
      await until(() => started.length === 1)
      expect(started[0]).toMatchObject({ runDir: run.dir, center: { seed: 5 }, count: 8, strength: 0.3, truncation: 1 })
      expect(await call2('jobs.cancel', { jobId: 'vary-1' })).toEqual({ cancelled: true })
      expect(await settled).toMatchObject({ code: 'cancelled', message: 'The variations were cancelled.' })

      const exporting = call2('explore.exportCollection', { id: run.id, name: 'Picks', jobId: 'export-1' }).catch((e: unknown) => e)
      await until(() => started.length === 2)
      expect(await call2('jobs.cancel', { jobId: 'export-1' })).toEqual({ cancelled: true })
      expect(await exporting).toMatchObject({ code: 'cancelled' })
    } finally {
      await other.shutdown()
    }
  })
})
