import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { printable } from '@shared/text'
import type { Preprocess } from '@shared/config'
import { toDatasetSummary, type DatasetJson, type DatasetStats, type DatasetSummary, type DuplicateFile, type ImportProgress, type SkippedFile } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import { forEachConcurrent, withLock } from '../../util/concurrency'
import { sha256File, writeJsonAtomic } from '../../util/fs'
import { decodeThreads } from '../../util/threadpool'
import { CacheFileWriter, removeStaleTemps } from './cache-writer'
import { FastJpegPool } from '../../jpeg/decode-pool'
import { decodeImage, MIN_SIDE, newScratch, pauseSharpCache, resolvePreprocess, SkipFile, type DecodedImage, type ResolvedPreprocess } from './decode'
import { IMAGE_EXTENSIONS, resolveSourceFolder, scanImageFolder, throwIfAborted, type ScanEntry, type ScanResult } from './scan'
import {
  cacheFileName,
  cacheFileSize,
  DATASET_FORMAT_VERSION,
  DATASET_JSON,
  datasetDir,
  datasetIdFor,
  expectedCacheBytes,
  readDatasetJson
} from './store'

/**
 * Bumped whenever decoding would produce different pixels for the same file (a new resize kernel,
 * a colour-handling fix): it is part of every fingerprint, so old caches rebuild by themselves.
 */
export const PIPELINE_VERSION = 1

const PROGRESS_INTERVAL_MS = 100

export interface ImportOptions {
  /** The artist's image folder. */
  source: string
  preprocess: Preprocess
  /** `<home>/datasets`. */
  datasetsDir: string
  /** Called as files are found and decoded, at most every 100 ms plus each phase's end. */
  onProgress?: (p: ImportProgress) => void
  signal?: AbortSignal
}

/**
 * Imports an image folder into `<datasetsDir>/<id>/` (see store.ts for the id): scans it
 * recursively, removes exact duplicates, decodes every image in parallel to
 * `resolution²` RGB and streams the pixels to `cache-<res>.bin`, then writes `dataset.json`.
 * When the folder's files (paths, sizes, mtimes) and the preprocessing are unchanged since the
 * last import, the existing dataset is returned untouched and nothing is decoded.
 *
 * Errors: `not-found` (no folder), `bad-input` (a file, a bad colour / resolution / crop),
 * `no-images` (nothing usable, with the reasons), `cancelled` (signal aborted).
 */
export async function importDataset(opts: ImportOptions): Promise<DatasetJson> {
  const pp = resolvePreprocess(opts.preprocess)
  const source = await resolveSourceFolder(opts.source)
  const id = datasetIdFor(source, pp)
  const dir = datasetDir(opts.datasetsDir, id)
  // Two imports of the same dataset in this process take turns; the second then finds the cache.
  return withLock(dir, () => importLocked(opts, pp, source, id, dir))
}

async function importLocked(opts: ImportOptions, pp: ResolvedPreprocess, source: string, id: string, dir: string): Promise<DatasetJson> {
  const { signal } = opts
  const progress = throttle(opts.onProgress)
  throwIfAborted(signal)

  const scan = await scanImageFolder(source, { signal, onFound: (found) => progress({ phase: 'scan', done: found, total: found }) })
  progress({ phase: 'scan', done: scan.images.length, total: scan.images.length }, true)
  const fingerprint = fingerprintOf(source, pp, scan)

  const previous = await readDatasetJson(dir).catch(() => null)
  if (previous && previous.fingerprint === fingerprint && (await cacheFileSize(dir, previous)) === expectedCacheBytes(previous)) {
    return previous
  }

  await removeStaleTemps(dir)
  const { unique, duplicateFiles } = await findDuplicates(scan.images, signal)
  const skipped: SkippedFile[] = [...scan.skipped]
  const writer = await CacheFileWriter.open(join(dir, cacheFileName(pp.resolution)))
  const kept: { entry: ScanEntry; image: Omit<DecodedImage, 'pixels'> }[] = []
  const restoreSharpCache = pauseSharpCache()
  // Large JPEGs (most photos) take the 1/8-scale fast path on worker threads; the rest,
  // and whatever it declines, go through sharp.
  const fast = FastJpegPool.create()
  try {
    // Results arrive out of order; they are written in path order as soon as their turn comes.
    const results: (DecodedImage | SkipFile | undefined)[] = new Array(unique.length)
    let next = 0
    let done = 0
    const cancelled = (): StudioError | null => (signal?.aborted ? new StudioError('cancelled', 'Import cancelled.') : null)
    await forEachConcurrent(unique.length, decodeConcurrency(), newScratch, async (i, scratch) => {
      const entry = unique[i]!
      try {
        const quick = fast && FastJpegPool.accepts(entry.path) ? await fast.decode(entry.path, pp) : null
        results[i] = quick
          ? { pixels: Buffer.from(quick.pixels.buffer, quick.pixels.byteOffset, quick.pixels.byteLength), width: quick.width, height: quick.height, hasAlpha: false }
          : await decodeImage(entry.path, entry.size, pp, scratch)
      } catch (err) {
        if (!(err instanceof SkipFile)) throw err
        results[i] = err
      }
      done++
      progress({ phase: 'decode', done, total: unique.length })
      for (; next < unique.length && results[next] !== undefined; next++) {
        const result = results[next]!
        results[next] = undefined // free the pixels
        if (result instanceof SkipFile) skipped.push({ file: unique[next]!.rel, reason: result.reason })
        else {
          writer.append(result.pixels)
          kept.push({ entry: unique[next]!, image: { width: result.width, height: result.height, hasAlpha: result.hasAlpha } })
        }
      }
      if (i % 64 === 0) await writer.drained()
    }, cancelled)
    progress({ phase: 'decode', done: unique.length, total: unique.length }, true)

    throwIfAborted(signal)
    if (kept.length === 0) throw noImagesError(source, skipped)
    restoreSharpCache()
    progress({ phase: 'cache', done: 0, total: 1 }, true)
    await writer.commit()
  } catch (err) {
    restoreSharpCache()
    await writer.abort()
    // A first import that failed leaves nothing behind (the folder is only removed when empty).
    if (!previous) await fsp.rmdir(dir).catch(() => undefined)
    throw err
  } finally {
    await fast?.close()
  }

  const now = new Date().toISOString()
  const json: DatasetJson = {
    formatVersion: DATASET_FORMAT_VERSION,
    id,
    name: basename(source),
    source,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    resolution: pp.resolution,
    crop: pp.crop,
    background: pp.background.hex,
    count: kept.length,
    scanned: scan.images.length + scan.unsupported.length,
    duplicates: duplicateFiles.length,
    duplicateFiles,
    skipped: skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    stats: statsOf(kept.map((k) => k.image)),
    cacheFile: cacheFileName(pp.resolution),
    fingerprint,
    files: kept.map((k) => k.entry.rel)
  }
  await writeJsonAtomic(join(dir, DATASET_JSON), json)
  progress({ phase: 'cache', done: 1, total: 1 }, true)
  return json
}

/**
 * The cached pixels of a dataset: `count × res × res × 3` uint8, NHWC, RGB. Says clearly when
 * the cache is missing or has the wrong size (a damaged or half-copied dataset folder).
 */
export async function loadDatasetPixels(dataset: DatasetJson, datasetsDir: string): Promise<Uint8Array> {
  const dir = datasetDir(datasetsDir, dataset.id)
  const file = join(dir, dataset.cacheFile)
  const expected = expectedCacheBytes(dataset)
  await checkCache(dataset, dir, expected)
  const data = await fsp.readFile(file)
  if (data.byteLength !== expected) throw cacheSizeError(dataset, file, data.byteLength, expected)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** Every readable dataset under `datasetsDir`, newest first. Folders that aren't datasets are left out. */
export async function listDatasets(datasetsDir: string): Promise<DatasetSummary[]> {
  let names: string[]
  try {
    names = await fsp.readdir(datasetsDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const found = await Promise.all(
    names
      .filter((n) => !n.startsWith('.'))
      .map(async (name) => {
        try {
          return toDatasetSummary(await readDatasetJson(datasetDir(datasetsDir, name)))
        } catch {
          return null
        }
      })
  )
  return found
    .filter((d): d is DatasetSummary => d !== null)
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.id < b.id ? -1 : 1))
}

/** dataset.json of `id`; `not-found` when there is none, `bad-input` when it can't be read (and why). */
export async function getDataset(datasetsDir: string, id: string): Promise<DatasetJson> {
  const dir = datasetDir(datasetsDir, id)
  try {
    return await readDatasetJson(dir)
  } catch (err) {
    if (err instanceof StudioError && err.code === 'not-found') throw new StudioError('not-found', `No dataset "${id}".`)
    throw err
  }
}

/**
 * Deletes a dataset folder (its cache and dataset.json; never the source images). The folder is
 * first renamed to a hidden name, so a half-finished delete never looks like a dataset.
 */
export async function deleteDataset(datasetsDir: string, id: string): Promise<void> {
  const dir = datasetDir(datasetsDir, id)
  const trash = join(datasetsDir, `.deleting-${id}-${process.pid}-${Date.now()}`)
  try {
    await fsp.rename(dir, trash)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StudioError('not-found', `No dataset "${id}".`)
    throw err
  }
  await fsp.rm(trash, { recursive: true, force: true })
}

/**
 * PNGs (resolution × resolution) of the first `limit` usable images of a folder, preprocessed
 * exactly as an import would, for the crop / background preview. Only those images are decoded;
 * `found` is how many image files the folder holds. An empty folder gives `{ images: [], found: 0 }`.
 */
export async function previewPreprocess(
  source: string,
  preprocess: Preprocess,
  limit = 12
): Promise<{ images: Buffer[]; found: number }> {
  const pp = resolvePreprocess(preprocess)
  if (!Number.isInteger(limit) || limit < 1 || limit > 256) throw new StudioError('bad-input', 'Preview limit must be a whole number from 1 to 256.')
  const abs = await resolveSourceFolder(source)
  const scan = await scanImageFolder(abs)
  const images: Buffer[] = []
  const batch = decodeConcurrency()
  for (let start = 0; start < scan.images.length && images.length < limit; start += batch) {
    const slice = scan.images.slice(start, start + batch)
    const decoded = await Promise.all(slice.map((e) => decodeImage(e.path, e.size, pp).catch(() => null)))
    for (const d of decoded) {
      if (d && images.length < limit) images.push(await toPng(d.pixels, pp.resolution))
    }
  }
  return { images, found: scan.images.length }
}

/** PNGs of cached images `offset … offset+limit-1` (clamped to the dataset), for the preview grid. */
export async function datasetImagesPng(dataset: DatasetJson, datasetsDir: string, offset: number, limit: number): Promise<Buffer[]> {
  if (!Number.isInteger(offset) || offset < 0) throw new StudioError('bad-input', 'Offset must be a whole number, 0 or more.')
  if (!Number.isInteger(limit) || limit < 1) throw new StudioError('bad-input', 'Limit must be a whole number, 1 or more.')
  const dir = datasetDir(datasetsDir, dataset.id)
  await checkCache(dataset, dir, expectedCacheBytes(dataset))
  const end = Math.min(dataset.count, offset + limit)
  if (offset >= end) return []
  const imageBytes = dataset.resolution * dataset.resolution * 3
  const buf = Buffer.alloc((end - offset) * imageBytes)
  const handle = await fsp.open(join(dir, dataset.cacheFile), 'r')
  try {
    let read = 0
    while (read < buf.byteLength) {
      const { bytesRead } = await handle.read(buf, read, buf.byteLength - read, offset * imageBytes + read)
      if (bytesRead === 0) throw cacheSizeError(dataset, join(dir, dataset.cacheFile), offset * imageBytes + read, expectedCacheBytes(dataset))
      read += bytesRead
    }
  } finally {
    await handle.close()
  }
  return Promise.all(
    Array.from({ length: end - offset }, (_, i) => toPng(buf.subarray(i * imageBytes, (i + 1) * imageBytes), dataset.resolution))
  )
}


// ── internals ────────────────────────────────────────────────────────────────────────────────

function toPng(pixels: Uint8Array, res: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width: res, height: res, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer()
}

async function checkCache(dataset: DatasetJson, dir: string, expected: number): Promise<void> {
  const file = join(dir, dataset.cacheFile)
  const size = await cacheFileSize(dir, dataset)
  if (size === null)
    throw new StudioError(
      'not-found',
      `The pixel cache of dataset "${dataset.id}" is missing (${file}). Import ${dataset.source} again to rebuild it.`
    )
  if (size !== expected) throw cacheSizeError(dataset, file, size, expected)
}

function cacheSizeError(dataset: DatasetJson, file: string, size: number, expected: number): StudioError {
  return new StudioError(
    'bad-input',
    `The pixel cache of dataset "${dataset.id}" is damaged: ${file} is ${size} bytes, expected ${expected} ` +
      `(${dataset.count} images of ${dataset.resolution}×${dataset.resolution}×3). Import ${dataset.source} again to rebuild it.`
  )
}

function noImagesError(source: string, skipped: SkippedFile[]): StudioError {
  if (skipped.length === 0) {
    const exts = IMAGE_EXTENSIONS.filter((e) => !['.jpe', '.jfif', '.apng'].includes(e))
    return new StudioError(
      'no-images',
      `No usable images in ${source}: no image files found (looked for ${exts.slice(0, -1).join(', ')} and ${exts.at(-1)} files in it and its subfolders).`
    )
  }
  const shown = skipped.slice(0, 3).map((s) => `${printable(s.file)}: ${s.reason}`)
  const more = skipped.length > 3 ? `; and ${skipped.length - 3} more` : ''
  const n = skipped.length
  return new StudioError('no-images', `No usable images in ${source}: ${n} ${n === 1 ? 'file' : 'files'} skipped (${shown.join('; ')}${more}).`)
}

function fingerprintOf(source: string, pp: ResolvedPreprocess, scan: ScanResult): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify({ pipeline: PIPELINE_VERSION, minSide: MIN_SIDE, source, res: pp.resolution, crop: pp.crop, bg: pp.background.hex }))
  for (const e of [...scan.images, ...scan.unsupported]) hash.update(`\n${e.rel}\0${e.size}\0${e.mtimeMs}`)
  for (const s of scan.skipped) if (s.file.endsWith('/')) hash.update(`\n${s.file}\0${s.reason}`)
  return hash.digest('hex')
}

/**
 * Exact duplicates by content: only files whose size equals another file's can be identical, so
 * only those are hashed (usually none). The first in path order is kept.
 */
async function findDuplicates(images: ScanEntry[], signal?: AbortSignal): Promise<{ unique: ScanEntry[]; duplicateFiles: DuplicateFile[] }> {
  const bySize = new Map<number, ScanEntry[]>()
  for (const e of images) {
    if (e.size === 0) continue
    const group = bySize.get(e.size)
    if (group) group.push(e)
    else bySize.set(e.size, [e])
  }
  const duplicateOf = new Map<ScanEntry, ScanEntry>()
  for (const group of bySize.values()) {
    if (group.length < 2) continue
    throwIfAborted(signal)
    const hashes = await Promise.all(group.map((e) => sha256File(e.path).catch(() => null)))
    const firstByHash = new Map<string, ScanEntry>()
    group.forEach((e, i) => {
      const h = hashes[i]
      if (!h) return // unreadable: the decoder will say why
      const first = firstByHash.get(h)
      if (first) duplicateOf.set(e, first)
      else firstByHash.set(h, e)
    })
  }
  const unique = images.filter((e) => !duplicateOf.has(e))
  const duplicateFiles = images.filter((e) => duplicateOf.has(e)).map((e) => ({ file: e.rel, sameAs: duplicateOf.get(e)!.rel }))
  return { unique, duplicateFiles }
}

function statsOf(images: { width: number; height: number; hasAlpha: boolean }[]): DatasetStats {
  const median = (values: number[]): number => {
    const s = [...values].sort((a, b) => a - b)
    const mid = s.length >> 1
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  }
  const widths = images.map((i) => i.width)
  const heights = images.map((i) => i.height)
  const aspects = images.map((i) => i.width / i.height)
  return {
    minWidth: Math.min(...widths),
    maxWidth: Math.max(...widths),
    minHeight: Math.min(...heights),
    maxHeight: Math.max(...heights),
    medianWidth: median(widths),
    medianHeight: median(heights),
    minAspect: Math.min(...aspects),
    maxAspect: Math.max(...aspects),
    medianAspect: median(aspects),
    withAlpha: images.filter((i) => i.hasAlpha).length
  }
}

/**
 * Files in flight: twice the decode threads, so that while every thread decodes, the next files
 * are already being read (file reads queue on the same pool).
 */
export function decodeConcurrency(): number {
  return Math.min(32, Math.max(8, decodeThreads() * 2))
}

/** At most one report per 100 ms, except the first of each phase and the forced ones (phase ends). */
function throttle(onProgress: ((p: ImportProgress) => void) | undefined): (p: ImportProgress, force?: boolean) => void {
  let last = 0
  let phase: ImportProgress['phase'] | null = null
  return (p, force = false) => {
    if (!onProgress) return
    const now = Date.now()
    if (!force && p.phase === phase && now - last < PROGRESS_INTERVAL_MS) return
    last = now
    phase = p.phase
    try {
      onProgress(p)
    } catch {
      // A progress listener's bug must not break the import.
    }
  }
}
