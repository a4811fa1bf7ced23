import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas, type Events, type ParsedParams, type RequestName, type Results } from '../../../src/shared/contract'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let home: string
let studio: Studio
let run: TinyRun

function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-explore-handlers-'))
  studio = new Studio({
    home,
    mode: 'browser',
    spawnTrainer: () => {
      throw new Error('no training in these tests')
    }
  })
  await studio.prepare()
  run = await makeTinyRun(join(home, 'runs'), { steps: [100, 200] })
})

afterAll(async () => {
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
})
