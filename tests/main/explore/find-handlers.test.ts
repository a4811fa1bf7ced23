import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSchemas, type Events, type ParsedParams, type RequestName, type Results } from '../../../src/shared/contract'
import { toDatasetSummary } from '../../../src/shared/datasets'
import { generateImages } from '../../../src/main/generate/images'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import { updateRun } from '../../../src/main/trainer/run/runs'
import { useWasm } from '../../helpers/backend'
import { makeImageFolder } from '../../helpers/images'
import { inProcessSpawner, until } from '../services/fakes'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

/** "Find my image" through the studio's request: a job of a trainer child (the real child code, in-process). */

let home: string
let studio: Studio
let run: TinyRun
let own: Buffer

function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

const dataUrl = (bytes: Buffer, type = 'image/png'): string => `data:${type};base64,${bytes.toString('base64')}`
const pixelsOf = async (url: string): Promise<Buffer> => sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).removeAlpha().raw().toBuffer()

beforeAll(async () => {
  await useWasm()
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-find-handlers-'))
  const spawner = inProcessSpawner({ trainRun: () => Promise.reject(new Error('no training in these tests')) })
  studio = new Studio({ home, mode: 'browser', spawnTrainer: spawner.spawn, jobs: { idleMs: 50, cancelGraceMs: 60_000 } })
  await studio.prepare()
  run = await makeTinyRun(join(home, 'runs'))
  await updateRun(run.dir, { config: { ...run.config, backend: 'wasm' } })
  own = (await generateImages(run.dir, { seeds: [77], outDir: null, backend: 'wasm' })).images[0]!.png!
})

afterAll(async () => {
  await studio.shutdown()
  await fsp.rm(home, { recursive: true, force: true })
})

describe('explore.find', () => {
  it('finds a dropped picture (a data URL), streaming progress with previews under the caller’s job id', async () => {
    const seen: Events['explore.findProgress'][] = []
    const off = studio.events.subscribe((event, p) => {
      if (event === 'explore.findProgress') seen.push(p as Events['explore.findProgress'])
    })
    const r = await call('explore.find', { id: run.id, image: { dataUrl: dataUrl(own), name: 'mine.png' }, steps: 100, starts: 4, jobId: 'find-1' })
    off()
    expect(r).toMatchObject({ verdict: 'close', targetLabel: 'mine.png', steps: 100, starts: 4, step: 100, checkpoint: 'step-000100' })
    expect(r.latent).toHaveLength(16)
    expect(r.psnr).toBeGreaterThan(30)
    expect(r.image).toMatch(/^data:image\/png;base64,/)
    expect((await pixelsOf(r.target)).equals(await sharp(own).removeAlpha().raw().toBuffer())).toBe(true)
    expect(seen.length).toBeGreaterThan(2)
    expect(seen.every((p) => p.jobId === 'find-1' && p.total === 100)).toBe(true)
    expect(seen.some((p) => p.preview?.startsWith('data:image/png;base64,'))).toBe(true)
    // The first event already shows the image as it is compared.
    expect(seen[0]!.target).toBe(r.target)
    expect(seen.at(-1)).toMatchObject({ phase: 'done', done: 100 })
    // The found latent renders (in another job) to the match.
    const rendered = await call('explore.render', { id: run.id, items: [{ latent: r.latent }] })
    expect(rendered.images[0]).toBe(r.image)
  })

  it('finds an image of the run’s dataset by index', async () => {
    const folder = join(home, 'pictures')
    await makeImageFolder(folder, { count: 2 })
    const dataset = await importDataset({ source: folder, preprocess: { resolution: 32, crop: 'center', background: '#ffffff' }, datasetsDir: studio.datasets.dir })
    await updateRun(run.dir, { dataset: toDatasetSummary(dataset) })
    const r = await call('explore.find', { id: run.id, image: { datasetImage: 1 }, steps: 10 })
    expect(r.targetLabel).toBe(`dataset image 1 (${dataset.files[1]})`)
    await expect(call('explore.find', { id: run.id, image: { datasetImage: 2 }, steps: 10 })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/has 2 images/) })
  })

  it('a picture that is not an image is refused in words; the schema refuses what is not an image data URL', async () => {
    await expect(call('explore.find', { id: run.id, image: { dataUrl: dataUrl(Buffer.from('hello, world, not an image')), name: 'notes.png' } })).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/^notes.png cannot be used: not a readable image/)
    })
    expect(() => requestSchemas['explore.find'].parse({ id: run.id, image: { dataUrl: 'data:text/plain;base64,aGk=' } })).toThrow(/image data URL/)
    expect(() => requestSchemas['explore.find'].parse({ id: run.id, image: { datasetImage: -1 } })).toThrow()
    expect(() => requestSchemas['explore.find'].parse({ id: run.id, image: { datasetImage: 0 }, steps: 5 })).toThrow()
    expect(requestSchemas['explore.find'].parse({ id: run.id, image: { datasetImage: 0 } })).toMatchObject({ steps: 200, starts: 6 })
    await expect(call('explore.find', { id: 'no-such-run', image: { datasetImage: 0 } })).rejects.toMatchObject({ code: 'not-found' })
  })

  it('stops when cancelled through jobs.cancel; the request answers "cancelled"', async () => {
    const seen: Events['explore.findProgress'][] = []
    const off = studio.events.subscribe((event, p) => {
      if (event === 'explore.findProgress') seen.push(p as Events['explore.findProgress'])
    })
    const pending = call('explore.find', { id: run.id, image: { dataUrl: dataUrl(own) }, steps: 2000, jobId: 'find-long' }).catch((e: unknown) => e)
    await until(() => seen.some((p) => p.done >= 2), 30_000)
    const at = Date.now()
    expect(await call('jobs.cancel', { jobId: 'find-long' })).toEqual({ cancelled: true })
    expect(await pending).toMatchObject({ code: 'cancelled', message: 'Finding the image was cancelled.' })
    expect(Date.now() - at).toBeLessThan(3000)
    off()
    expect(seen.at(-1)!.done).toBeLessThan(2000)
  })
})
