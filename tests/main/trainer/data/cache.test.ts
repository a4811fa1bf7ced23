import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Preprocess } from '@shared/config'
import type { ImportProgress } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import {
  deleteDataset,
  getDataset,
  importDataset,
  listDatasets,
  loadDatasetPixels
} from '../../../../src/main/trainer/data/dataset'
import { makeImageFolder, writeImage, type ImageFolder } from '../../../helpers/images'

let root: string
let datasetsDir: string
let folder: ImageFolder
beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-cache-'))
  datasetsDir = join(root, 'datasets')
  folder = await makeImageFolder(join(root, 'art'), { count: 6, formats: ['png', 'jpeg', 'webp'] })
})
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

const pp = (over: Partial<Preprocess> = {}): Preprocess => ({ resolution: 32, crop: 'center', background: '#ffffff', ...over })

/** Imports and records which phases reported progress (a rebuild decodes; a reuse does not). */
async function importWatched(preprocess = pp(), signal?: AbortSignal) {
  const events: ImportProgress[] = []
  const dataset = await importDataset({ source: folder.dir, preprocess, datasetsDir, onProgress: (p) => events.push(p), signal })
  return { dataset, events, decoded: events.some((e) => e.phase === 'decode') }
}
async function rejection(p: Promise<unknown>): Promise<StudioError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err, 'expected a rejection').toBeInstanceOf(StudioError)
  return err as StudioError
}

describe('the pixel cache', () => {
  it('is reused while nothing changed: same dataset.json, cache untouched, nothing decoded', async () => {
    const first = await importWatched()
    expect(first.decoded).toBe(true)
    const cache = join(datasetsDir, first.dataset.id, 'cache-32.bin')
    const before = await fsp.stat(cache)
    const jsonBefore = await fsp.readFile(join(datasetsDir, first.dataset.id, 'dataset.json'), 'utf8')

    const second = await importWatched()
    expect(second.decoded).toBe(false)
    expect(second.dataset).toEqual(first.dataset)
    expect((await fsp.stat(cache)).mtimeMs).toBe(before.mtimeMs)
    expect(await fsp.readFile(join(datasetsDir, first.dataset.id, 'dataset.json'), 'utf8')).toBe(jsonBefore)
  })

  it('rebuilds when a file is added, removed, or modified, and keeps createdAt', async () => {
    const first = await importWatched()

    await writeImage(join(folder.dir, 'zz-new.png'), { width: 50, height: 40, format: 'png', colour: [1, 99, 200], seed: 77 })
    const added = await importWatched()
    expect(added.decoded).toBe(true)
    expect(added.dataset.count).toBe(7)
    expect(added.dataset.files.at(-1)).toBe('zz-new.png')
    expect(added.dataset.createdAt).toBe(first.dataset.createdAt)
    expect(added.dataset.fingerprint).not.toBe(first.dataset.fingerprint)
    expect((await fsp.stat(join(datasetsDir, added.dataset.id, 'cache-32.bin'))).size).toBe(7 * 3072)

    await fsp.rm(join(folder.dir, folder.images[0]!.rel))
    const removed = await importWatched()
    expect(removed.decoded).toBe(true)
    expect(removed.dataset.count).toBe(6)
    expect(removed.dataset.files).not.toContain(folder.images[0]!.rel)

    // Same size, new mtime: an artist re-saved a file.
    const touched = join(folder.dir, folder.images[1]!.rel)
    const later = new Date(Date.now() + 5000)
    await fsp.utimes(touched, later, later)
    expect((await importWatched()).decoded).toBe(true)
    expect((await importWatched()).decoded).toBe(false)
  })

  it('keeps one dataset per preprocessing: changing it builds another, and both stay reusable', async () => {
    const a = await importWatched(pp())
    const b = await importWatched(pp({ resolution: 64, crop: 'pad' }))
    expect(b.decoded).toBe(true)
    expect(b.dataset.id).not.toBe(a.dataset.id)
    expect(b.dataset.cacheFile).toBe('cache-64.bin')
    expect((await loadDatasetPixels(b.dataset, datasetsDir)).length).toBe(6 * 64 * 64 * 3)
    expect((await importWatched(pp())).decoded).toBe(false)
    expect((await importWatched(pp({ resolution: 64, crop: 'pad' }))).decoded).toBe(false)
    // An equivalent spelling of the background is the same dataset.
    expect((await importWatched(pp({ background: 'WHITE' }))).dataset.id).toBe(a.dataset.id)
  })

  it('rebuilds a missing or wrong-sized cache, and loadDatasetPixels says clearly what is wrong', async () => {
    const { dataset } = await importWatched()
    const cache = join(datasetsDir, dataset.id, 'cache-32.bin')

    await fsp.rm(cache)
    const missing = await rejection(loadDatasetPixels(dataset, datasetsDir))
    expect(missing.code).toBe('not-found')
    expect(missing.message).toMatch(/pixel cache of dataset ".*" is missing .*Import .* again to rebuild it/)
    expect((await importWatched()).decoded).toBe(true)

    await fsp.truncate(cache, 1000)
    const damaged = await rejection(loadDatasetPixels(dataset, datasetsDir))
    expect(damaged.code).toBe('bad-input')
    expect(damaged.message).toContain(`is 1000 bytes, expected ${6 * 3072} (6 images of 32×32×3)`)
    expect((await importWatched()).decoded).toBe(true)
    const pixels = await loadDatasetPixels(dataset, datasetsDir)
    expect(pixels).toBeInstanceOf(Uint8Array)
    expect(pixels.length).toBe(6 * 3072)
  })

  it('cache bytes are the decoded images in dataset.files order', async () => {
    const { dataset } = await importWatched()
    const pixels = await loadDatasetPixels(dataset, datasetsDir)
    const colours = folder.images.map((i) => i.colour)
    for (const [n, rel] of dataset.files.entries()) {
      // Of all the folder's colours, cached image n is closest to its own file's colour.
      const share = colours.map((c) => {
        let close = 0
        for (let p = n * 1024; p < (n + 1) * 1024; p++)
          if (Math.abs(pixels[p * 3]! - c[0]) + Math.abs(pixels[p * 3 + 1]! - c[1]) + Math.abs(pixels[p * 3 + 2]! - c[2]) < 40) close++
        return close
      })
      const best = share.indexOf(Math.max(...share))
      expect(folder.images[best]!.rel, `cached image ${n}`).toBe(rel)
    }
  })

  it('removes temp files left by a crashed import, but not a live process’s', async () => {
    const { dataset } = await importWatched()
    const dir = join(datasetsDir, dataset.id)
    const dead = join(dir, 'cache-32.bin.tmp-999999999-abc')
    const live = join(dir, `cache-32.bin.tmp-${process.ppid}-abc`)
    await fsp.writeFile(dead, 'x')
    await fsp.writeFile(live, 'x')
    await writeImage(join(folder.dir, 'another.png'), { width: 20, height: 20, format: 'png', colour: [5, 5, 5] })
    await importWatched()
    await expect(fsp.access(dead)).rejects.toThrow()
    await expect(fsp.access(live)).resolves.toBeUndefined()
  })
})

describe('dataset.json readers', () => {
  it('get, list (summaries, newest first, junk ignored) and delete', async () => {
    const a = (await importWatched(pp())).dataset
    await new Promise((r) => setTimeout(r, 5))
    const b = (await importWatched(pp({ resolution: 64 }))).dataset
    await fsp.mkdir(join(datasetsDir, 'not-a-dataset'))
    await fsp.writeFile(join(datasetsDir, 'stray.txt'), 'x')

    expect(await getDataset(datasetsDir, a.id)).toEqual(a)
    const list = await listDatasets(datasetsDir)
    expect(list.map((d) => d.id)).toEqual([b.id, a.id])
    expect(list[0]).not.toHaveProperty('files')
    expect(list[0]).toMatchObject({ count: 6, resolution: 64, source: folder.dir })

    await deleteDataset(datasetsDir, a.id)
    expect((await listDatasets(datasetsDir)).map((d) => d.id)).toEqual([b.id])
    await expect(fsp.access(join(datasetsDir, a.id))).rejects.toThrow()
    // The source images are never touched.
    expect((await fsp.readdir(folder.dir)).length).toBe(6)

    const gone = await rejection(getDataset(datasetsDir, a.id))
    expect(gone.code).toBe('not-found')
    expect(gone.message).toBe(`No dataset "${a.id}".`)
    expect((await rejection(deleteDataset(datasetsDir, a.id))).code).toBe('not-found')
    expect((await rejection(getDataset(datasetsDir, '../etc'))).code).toBe('bad-input')
    expect((await rejection(deleteDataset(datasetsDir, '..'))).code).toBe('bad-input')
    expect(await listDatasets(join(root, 'no-such-home'))).toEqual([])
  })

  it('says why it cannot use a dataset.json from a newer version, a damaged one, or a foreign one', async () => {
    const { dataset } = await importWatched()
    const file = join(datasetsDir, dataset.id, 'dataset.json')
    const original = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>

    await fsp.writeFile(file, JSON.stringify({ ...original, formatVersion: 2 }))
    const newer = await rejection(getDataset(datasetsDir, dataset.id))
    expect(newer.code).toBe('bad-input')
    expect(newer.message).toMatch(/written by a newer version of GAN Studio \(dataset format 2; this version reads format 1\)/)
    expect(await listDatasets(datasetsDir)).toEqual([])
    // Importing the folder again replaces it with one this version reads.
    const rebuilt = await importWatched()
    expect(rebuilt.decoded).toBe(true)
    expect((await getDataset(datasetsDir, dataset.id)).formatVersion).toBe(1)

    await fsp.writeFile(file, '{"formatVersion": 1, "id": ')
    expect((await rejection(getDataset(datasetsDir, dataset.id))).message).toMatch(/is damaged \(not valid JSON\)/)

    const { count: _count, ...noCount } = original
    void _count
    await fsp.writeFile(file, JSON.stringify(noCount))
    expect((await rejection(getDataset(datasetsDir, dataset.id))).message).toMatch(/is damaged \(count: .*\)\. Import the folder again/)

    await fsp.writeFile(file, JSON.stringify({ name: 'something else' }))
    expect((await rejection(getDataset(datasetsDir, dataset.id))).message).toMatch(/not a GAN Studio dataset file/)

    await fsp.writeFile(file, JSON.stringify({ ...original, formatVersion: 'one' }))
    expect((await rejection(getDataset(datasetsDir, dataset.id))).message).toMatch(/unknown dataset format \("one"\)/)
  })
})

describe('progress, cancellation and concurrency', () => {
  it('reports scan, decode and cache phases in order, ending with done === total', async () => {
    const { events } = await importWatched()
    const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1])
    expect(phases).toEqual(['scan', 'decode', 'cache'])
    const decode = events.filter((e) => e.phase === 'decode')
    expect(decode.at(-1)).toEqual({ phase: 'decode', done: 6, total: 6 })
    for (let i = 1; i < decode.length; i++) expect(decode[i]!.done).toBeGreaterThanOrEqual(decode[i - 1]!.done)
    expect(events.at(-1)).toEqual({ phase: 'cache', done: 1, total: 1 })
  })

  it('throttles progress: within a phase, reports are at least 100 ms apart (phase ends aside)', async () => {
    folder = await makeImageFolder(join(root, 'many'), { count: 120, sizes: [[24, 24]], formats: ['png'], seed: 5 })
    const times: { p: ImportProgress; t: number }[] = []
    await importDataset({ source: folder.dir, preprocess: pp(), datasetsDir, onProgress: (p) => times.push({ p, t: performance.now() }) })
    const decode = times.filter((e) => e.p.phase === 'decode')
    expect(decode.at(-1)!.p).toEqual({ phase: 'decode', done: 120, total: 120 })
    // Every report but the first and the forced last one comes ≥ 100 ms after the previous.
    for (let i = 1; i < decode.length - 1; i++) expect(decode[i]!.t - decode[i - 1]!.t).toBeGreaterThanOrEqual(95)
  })

  it('cancels cleanly: cancelled error, no cache, no temp file, no dataset.json', async () => {
    folder = await makeImageFolder(join(root, 'many'), { count: 60, sizes: [[24, 24]], formats: ['png'], seed: 9 })
    const controller = new AbortController()
    let maxDone = 0
    const err = await rejection(
      importDataset({
        source: folder.dir,
        preprocess: pp(),
        datasetsDir,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase !== 'decode') return
          maxDone = Math.max(maxDone, p.done)
          controller.abort()
        }
      })
    )
    expect(err.code).toBe('cancelled')
    // Stopped while decoding: the pool never got to its last file (which always reports done === total).
    expect(maxDone).toBeGreaterThan(0)
    expect(maxDone).toBeLessThan(60)
    const leftovers = await fsp.readdir(datasetsDir, { recursive: true }).catch(() => [] as string[])
    expect(leftovers).toEqual([])

    const aborted = AbortSignal.abort()
    expect((await rejection(importDataset({ source: folder.dir, preprocess: pp(), datasetsDir, signal: aborted }))).code).toBe('cancelled')
  })

  it('two imports of the same dataset at once decode it once and agree', async () => {
    const [a, b] = await Promise.all([importWatched(), importWatched()])
    expect([a.decoded, b.decoded].filter(Boolean)).toHaveLength(1)
    expect(a.dataset).toEqual(b.dataset)
  })
})
