import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Preprocess } from '@shared/config'
import { StudioError } from '@shared/errors'
import { datasetImagesPng, importDataset, loadDatasetPixels, previewPreprocess } from '../../../../src/main/trainer/data/dataset'
import { makeImageFolder } from '../../../helpers/images'

let root: string
let datasetsDir: string
beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-preview-'))
  datasetsDir = join(root, 'datasets')
})
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

const pp = (over: Partial<Preprocess> = {}): Preprocess => ({ resolution: 32, crop: 'center', background: '#ffffff', ...over })

async function rawOf(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels }
}
async function rejection(p: Promise<unknown>): Promise<StudioError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(StudioError)
  return err as StudioError
}

describe('previewPreprocess', () => {
  it('returns the first usable images as PNGs, exactly as an import would cache them', async () => {
    // Broken files sort first ("broken-…" < "img-…"): the preview skips them and still fills up.
    const folder = await makeImageFolder(join(root, 'art'), { count: 9, formats: ['png', 'jpeg', 'gif'], broken: ['garbage', 'empty'], withAlpha: true })
    const preprocess = pp({ resolution: 64, crop: 'pad', background: '#ff00ff' })
    const { images, found } = await previewPreprocess(folder.dir, preprocess, 4)
    expect(found).toBe(11)
    expect(images).toHaveLength(4)

    const ds = await importDataset({ source: folder.dir, preprocess, datasetsDir })
    const cached = await loadDatasetPixels(ds, datasetsDir)
    for (const [n, png] of images.entries()) {
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
      const { data, width, height, channels } = await rawOf(png)
      expect([width, height, channels]).toEqual([64, 64, 3])
      expect(Buffer.compare(data, Buffer.from(cached.subarray(n * 64 * 64 * 3, (n + 1) * 64 * 64 * 3)))).toBe(0)
    }
    // Pad with a magenta background: the letterbox or flattened corner shows it.
    const first = (await rawOf(images[0]!)).data
    expect([...first.subarray(0, 3)]).toEqual([255, 0, 255])
  })

  it('handles an empty folder and checks its arguments', async () => {
    await fsp.mkdir(join(root, 'empty'))
    expect(await previewPreprocess(join(root, 'empty'), pp(), 3)).toEqual({ images: [], found: 0 })
    expect((await rejection(previewPreprocess(join(root, 'missing'), pp(), 3))).code).toBe('not-found')
    expect((await rejection(previewPreprocess(join(root, 'empty'), pp({ background: 'nope' }), 3))).code).toBe('bad-input')
    expect((await rejection(previewPreprocess(join(root, 'empty'), pp(), 0))).code).toBe('bad-input')
  })

  it('decodes only what it shows: a big folder previews fast', async () => {
    const folder = await makeImageFolder(join(root, 'big'), { count: 150, sizes: [[300, 200]], formats: ['png'] })
    const t0 = performance.now()
    const { images, found } = await previewPreprocess(folder.dir, pp(), 2)
    const previewMs = performance.now() - t0
    expect(found).toBe(150)
    expect(images).toHaveLength(2)
    const t1 = performance.now()
    await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    const importMs = performance.now() - t1
    expect(previewMs).toBeLessThan(importMs / 3)
  })
})

describe('datasetImagesPng', () => {
  it('returns cached images offset … offset+limit as PNGs, clamped to the dataset', async () => {
    const folder = await makeImageFolder(join(root, 'art'), { count: 7 })
    const ds = await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir })
    const cached = await loadDatasetPixels(ds, datasetsDir)

    const page = await datasetImagesPng(ds, datasetsDir, 2, 3)
    expect(page).toHaveLength(3)
    for (const [k, png] of page.entries()) {
      const { data, width } = await rawOf(png)
      expect(width).toBe(32)
      expect(Buffer.compare(data, Buffer.from(cached.subarray((2 + k) * 3072, (3 + k) * 3072)))).toBe(0)
    }
    expect(await datasetImagesPng(ds, datasetsDir, 5, 10)).toHaveLength(2)
    expect(await datasetImagesPng(ds, datasetsDir, 7, 10)).toEqual([])
    expect((await rejection(datasetImagesPng(ds, datasetsDir, -1, 3))).code).toBe('bad-input')
    expect((await rejection(datasetImagesPng(ds, datasetsDir, 0, 1.5))).code).toBe('bad-input')

    await fsp.truncate(join(datasetsDir, ds.id, ds.cacheFile), 10)
    expect((await rejection(datasetImagesPng(ds, datasetsDir, 0, 3))).message).toMatch(/pixel cache .* is damaged/)
  })
})
