import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas, type Events, type ParsedParams, type RequestName, type Results } from '../../../src/shared/contract'
import { handlers } from '../../../src/main/handlers'
import { ensureBackend } from '../../../src/main/generate/generator'
import { Studio } from '../../../src/main/services/studio'
import { inProcessSpawner, until } from '../services/fakes'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let home: string
let studio: Studio
let run: TinyRun

function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

beforeAll(async () => {
  // The in-process child computes on the backend active here: wasm, as the studio's child would.
  await ensureBackend({ backend: 'wasm' })
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-directions-handlers-'))
  studio = new Studio({ home, mode: 'browser', spawnTrainer: inProcessSpawner({ trainRun: () => Promise.reject(new Error('no training here')) }).spawn, jobs: { idleMs: 50, cancelGraceMs: 60_000 } })
  await studio.prepare()
  run = await makeTinyRun(join(home, 'runs'))
})

afterAll(async () => {
  await studio.shutdown()
  await fsp.rm(home, { recursive: true, force: true })
})

describe('directions requests', () => {
  it('components: computed by a trainer-child job with progress under the caller’s id, then read from the cache', async () => {
    const seen: Events['jobs.progress'][] = []
    const off = studio.events.subscribe((event, p) => {
      if (event === 'jobs.progress') seen.push(p as Events['jobs.progress'])
    })
    const before = tf.memory().numTensors
    const first = await call('directions.components', { id: run.id, count: 4, jobId: 'dirs-1' })
    expect(first).toMatchObject({ cached: false, checkpoint: 'step-000100', step: 100, latentDim: 16, samples: 4096 })
    expect(first.components.map((c) => c.component)).toEqual([1, 2, 3, 4])
    expect(seen.length).toBeGreaterThan(2)
    expect(seen.every((p) => p.jobId === 'dirs-1' && p.kind === 'directions')).toBe(true)
    expect(seen.at(-1)).toMatchObject({ label: 'Done' })
    expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total)
    const again = await call('directions.components', { id: run.id })
    expect(again.cached).toBe(true)
    expect(again.components).toHaveLength(10)
    expect(again.components.slice(0, 4)).toEqual(first.components)
    expect(tf.memory().numTensors).toBe(before)
    await expect(call('directions.components', { id: 'no-such-run' })).rejects.toMatchObject({ code: 'not-found' })
    expect(() => requestSchemas['directions.components'].parse({ id: run.id, count: 17 })).toThrow()
    off()
  })

  it('components: a computation is cancelled through jobs.cancel, and leaves no cache behind', async () => {
    const cache = join(run.dir, 'explore', 'directions-step-000100.json')
    const stamp = (await fsp.stat(cache)).mtimeMs
    let progressed = false
    const off = studio.events.subscribe((event, p) => {
      if (event === 'jobs.progress' && (p as Events['jobs.progress']).jobId === 'dirs-2') progressed = true
    })
    const pending = call('directions.components', { id: run.id, recompute: true, jobId: 'dirs-2' }).catch((e: unknown) => e)
    await until(() => progressed)
    expect(await call('jobs.cancel', { jobId: 'dirs-2' })).toEqual({ cancelled: true })
    expect(await pending).toMatchObject({ code: 'cancelled', message: 'Finding the directions was cancelled.' })
    expect((await fsp.stat(cache)).mtimeMs).toBe(stamp)
    off()
  })

  it('saved directions: save, list, rename, delete; bad requests are refused', async () => {
    const { components } = await call('directions.components', { id: run.id, count: 2 })
    let list = await call('directions.edit', { id: run.id, action: 'save', name: 'Glow', vector: components[1]!.vector.map((v) => -v), scale: 2, component: 2, checkpoint: 'step-000100' })
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ name: 'Glow', scale: 2, component: 2, checkpoint: 'step-000100', step: 100 })
    expect(await call('directions.saved', { id: run.id })).toEqual(list)
    list = await call('directions.edit', { id: run.id, action: 'rename', name: 'glow', newName: 'Dusk' })
    expect(list.map((d) => d.name)).toEqual(['Dusk'])
    await expect(call('directions.edit', { id: run.id, action: 'save', name: 'Dusk', vector: components[0]!.vector })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(call('directions.edit', { id: run.id, action: 'save', name: 'Short', vector: [1, 2, 3] })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/16 values/) })
    await expect(call('directions.edit', { id: run.id, action: 'delete', name: 'Nothing' })).rejects.toMatchObject({ code: 'not-found' })
    expect(() => requestSchemas['directions.edit'].parse({ id: run.id, action: 'save', name: 'X' })).toThrow(/vector/)
    expect(() => requestSchemas['directions.edit'].parse({ id: run.id, action: 'rename', name: 'X' })).toThrow(/newName/)
    expect(() => requestSchemas['directions.edit'].parse({ id: run.id, action: 'save', name: 'X', vector: [1], scale: 0 })).toThrow()
    list = await call('directions.edit', { id: run.id, action: 'delete', name: 'dusk' })
    expect(list).toEqual([])
  })
})
