import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type { Preprocess } from '@shared/config'
import { toDatasetSummary, type DatasetJson, type DatasetSummary } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import {
  datasetImagesPng,
  deleteDataset,
  getDataset,
  importDataset,
  listDatasets,
  previewPreprocess
} from '../trainer/data/dataset'
import type { EventSink } from './events'

export interface DatasetLibraryOptions {
  datasetsDir: string
  emit: EventSink
  /** True when a training job (running or queued) uses this dataset; it cannot be deleted then. */
  isInUse?: (id: string) => Promise<boolean>
}

/**
 * The dataset library: `<home>/datasets`, as the studio sees it. Imports report progress as
 * `datasets.progress` events; images travel as PNG data URLs (small: at most 256 px, 256 a page).
 */
export class DatasetLibrary {
  private readonly imports = new Map<string, AbortController>()

  constructor(private readonly opts: DatasetLibraryOptions) {}

  get dir(): string {
    return this.opts.datasetsDir
  }

  list(): Promise<DatasetSummary[]> {
    return listDatasets(this.opts.datasetsDir)
  }

  get(id: string): Promise<DatasetJson> {
    return getDataset(this.opts.datasetsDir, id)
  }

  async preview(source: string, preprocess: Preprocess, limit: number): Promise<{ images: string[]; found: number }> {
    const { images, found } = await previewPreprocess(requireAbsolute(source), preprocess, limit)
    return { images: images.map(pngDataUrl), found }
  }

  /**
   * Imports (or finds unchanged in the cache) a folder. Progress goes out as events tagged with
   * the source. An import of a folder already being imported waits for that one.
   */
  async import(source: string, preprocess: Preprocess): Promise<DatasetJson> {
    const abs = requireAbsolute(source)
    const controller = new AbortController()
    const key = `${abs}\n${JSON.stringify(preprocess)}`
    this.imports.set(key, controller)
    try {
      return await importDataset({
        source: abs,
        preprocess,
        datasetsDir: this.opts.datasetsDir,
        signal: controller.signal,
        onProgress: (p) => this.opts.emit('datasets.progress', { ...p, source: abs })
      })
    } finally {
      if (this.imports.get(key) === controller) this.imports.delete(key)
    }
  }

  async importSummary(source: string, preprocess: Preprocess): Promise<DatasetSummary> {
    return toDatasetSummary(await this.import(source, preprocess))
  }

  async images(id: string, offset: number, limit: number): Promise<{ total: number; images: string[] }> {
    const dataset = await this.get(id)
    const pngs = await datasetImagesPng(dataset, this.opts.datasetsDir, offset, limit)
    return { total: dataset.count, images: pngs.map(pngDataUrl) }
  }

  async delete(id: string): Promise<void> {
    await this.get(id)
    if (await this.opts.isInUse?.(id)) {
      throw new StudioError('busy', 'A run that is training or queued uses this dataset; stop it first.')
    }
    await deleteDataset(this.opts.datasetsDir, id)
  }

  /** Cancels imports in progress (quitting). */
  abortAll(): void {
    for (const controller of this.imports.values()) controller.abort()
    this.imports.clear()
  }
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`
}

/**
 * Folder paths from the UI must be absolute (a relative one would depend on the server's working
 * folder); a leading `~` means the home folder of the machine the studio runs on.
 */
export function requireAbsolute(path: string, what = 'source'): string {
  if (path.includes('\0')) throw new StudioError('invalid-params', `${what}: contains a NUL character.`)
  const expanded = path === '~' ? homedir() : /^~[\\/]/.test(path) ? join(homedir(), path.slice(2)) : path
  if (!isAbsolute(expanded)) {
    throw new StudioError('invalid-params', `${what}: must be an absolute folder path, e.g. ${join(homedir(), 'Pictures')}.`)
  }
  return resolve(expanded)
}
