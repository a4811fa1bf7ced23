import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { requestSchemas, type ParsedParams, type RequestName, type Results } from '@shared/contract'
import { sampleFileName } from '@shared/runs'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { importDataset, loadDatasetPixels } from '../../../src/main/trainer/data/dataset'
import { gridPng } from '../../../src/main/trainer/run/grid'
import { createRun } from '../../../src/main/trainer/run/runs'
import { datasetsDir, runsDir } from '../../../src/main/util/home'
import { makeImageFolder } from '../../helpers/images'

let home: string
let studio: Studio
let runId: string
let runDir: string
let pixels: Uint8Array
const R = 32
const SIZE = R * R * 3

function call<K extends RequestName>(name: K, params: unknown): Promise<Results[K]> {
  const parsed = requestSchemas[name].parse(params) as ParsedParams<K>
  return (handlers[name] as unknown as (p: ParsedParams<K>, s: Studio) => Promise<Results[K]>)(parsed, studio)
}

async function pngOf(i: number): Promise<Buffer> {
  return sharp(pixels.subarray(i * SIZE, (i + 1) * SIZE), { raw: { width: R, height: R, channels: 3 } }).png().toBuffer()
}

beforeAll(async () => {
  home = await fsp.mkdtemp(join(tmpdir(), 'gan-nearest-'))
  studio = new Studio({ home, mode: 'browser', spawnTrainer: () => { throw new Error('no training here') } })
  await studio.prepare()
  const source = join(home, 'art')
  await makeImageFolder(source, { count: 16, formats: ['png'], seed: 4 })
  const config = RunConfigSchema.parse({ source, preprocess: { resolution: R, crop: 'pad' }, gridSize: 16 })
  const dataset = await importDataset({ source, preprocess: config.preprocess, datasetsDir: datasetsDir(home) })
  pixels = await loadDatasetPixels(dataset, datasetsDir(home))
  const created = await createRun({ runsDir: runsDir(home), config, dataset })
  runId = created.run.id
  runDir = created.dir
  // A "sample grid" whose tile k is training image (15 - k): the nearest image of tile k is known.
  const tiles = new Uint8Array(16 * SIZE)
  for (let k = 0; k < 16; k++) tiles.set(pixels.subarray((15 - k) * SIZE, (16 - k) * SIZE), k * SIZE)
  await fsp.writeFile(join(runDir, sampleFileName(300)), await gridPng(tiles, 16, R))
})

afterAll(async () => {
  await fsp.rm(home, { recursive: true, force: true })
})

describe('quality.nearest', () => {
  it('finds the training image a sample-grid tile copies, then the next nearest ones', async () => {
    const r = await call('quality.nearest', { id: runId, image: { step: 300, index: 5 } })
    expect(r.matches).toHaveLength(3)
    expect(r.matches[0]).toMatchObject({ image: 10, mirrored: false })
    expect(r.matches[0]!.distance).toBeLessThan(0.01)
    expect(r.matches[1]!.distance).toBeGreaterThan(r.matches[0]!.distance)
    expect(new Set(r.matches.map((m) => m.image)).size).toBe(3)
    expect(r.matches[0]!.url).toMatch(/^data:image\/png;base64,/)
    expect(r.matches[0]!.file).toMatch(/\.png$/)
    expect(r.typicalDistance).toBeGreaterThan(0.05)
    expect(r.datasetName).toBe('art')
  })

  it('takes a preview data URL and a saved PNG under exports/, and finds mirror-image copies', async () => {
    const flipped = await sharp(await pngOf(3)).flop().png().toBuffer()
    const r = await call('quality.nearest', { id: runId, image: { png: `data:image/png;base64,${flipped.toString('base64')}` }, count: 2 })
    expect(r.matches).toHaveLength(2)
    expect(r.matches[0]).toMatchObject({ image: 3, mirrored: true })
    await fsp.mkdir(join(runDir, 'exports', 'images'), { recursive: true })
    await fsp.writeFile(join(runDir, 'exports', 'images', 'seed-000001.png'), await pngOf(7))
    const saved = await call('quality.nearest', { id: runId, image: { file: 'exports/images/seed-000001.png' } })
    expect(saved.matches[0]).toMatchObject({ image: 7, mirrored: false })
  })

  it('refuses what it cannot use with a readable error', async () => {
    await expect(call('quality.nearest', { id: runId, image: { step: 999, index: 0 } })).rejects.toThrow(/no sample grid at step 999/)
    await expect(call('quality.nearest', { id: runId, image: { step: 300, index: 20 } })).rejects.toThrow(/has 16 images/)
    await expect(call('quality.nearest', { id: runId, image: { png: 'data:image/png;base64,AAAA' } })).rejects.toThrow(/could not be read/)
    expect(() => requestSchemas['quality.nearest'].parse({ id: runId, image: { file: '../run.json' } })).toThrow()
    await expect(call('quality.nearest', { id: runId, image: { file: 'exports/../../../etc/x.png' } })).rejects.toThrow(/leaves the folder/)
  })
})
