import { defineStore } from 'pinia'
import { computed, ref, shallowRef, triggerRef } from 'vue'
import type { Results } from '@shared/contract'
import type { Preprocess } from '@shared/config'
import type { DatasetSummary, ImportProgress } from '@shared/datasets'
import { getBridge, pathForDroppedFile } from '../bridge'
import { errorMessage } from '../lib/errors'
import { imageSrc } from '../lib/images'
import { useAppStore } from './app'

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string }

export interface ImportState {
  source: string
  phase: ImportProgress['phase'] | 'starting'
  done: number
  total: number
}

/** The preprocessed images of one dataset, fetched page by page as the grid scrolls. */
export interface ImageGrid {
  id: string
  total: number
  /** Image URLs by index; null where that page has not arrived yet. */
  urls: (string | null)[]
}

const PAGE = 128

/** Same folder path, ignoring trailing and doubled separators and `/./`. */
export function sameFolder(a: string, b: string): boolean {
  const norm = (p: string) =>
    p
      .trim()
      .replace(/\\/g, '/')
      .replace(/\/\.(?=\/|$)/g, '')
      .replace(/\/{2,}/g, '/')
      .replace(/(.)\/+$/, '$1')
  return norm(a) === norm(b)
}

function sortNewestFirst(list: DatasetSummary[]): DatasetSummary[] {
  return [...list].sort((a, b) => (b.updatedAt ?? b.createdAt).localeCompare(a.updatedAt ?? a.createdAt))
}

export const useDatasetsStore = defineStore('datasets', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const list = ref<DatasetSummary[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const loadError = ref<string | null>(null)
  const importing = ref<ImportState | null>(null)
  const importError = ref<string | null>(null)
  const selectedId = ref<string | null>(null)
  const grid = shallowRef<ImageGrid | null>(null)
  const loadingPages = new Set<string>()

  const selected = computed(() => list.value.find((d) => d.id === selectedId.value) ?? null)
  const newest = computed(() => list.value[0] ?? null)

  /** The folder as the main side names it in progress events (it expands `~` and normalises). */
  let progressSource: string | null = null

  // Subscribe before the first snapshot so no progress is missed.
  bridge.on('datasets.progress', (p) => {
    const current = importing.value
    if (!current) return
    if (progressSource === null) {
      // The first event of our import names the folder; a different folder's import (another
      // window) is only ignored once we know ours.
      if (!sameFolder(p.source, current.source) && !current.source.startsWith('~')) return
      progressSource = p.source
    } else if (p.source !== progressSource) return
    importing.value = { source: current.source, phase: p.phase, done: p.done, total: p.total }
  })
  app.onReconnect(() => void load())

  async function load(): Promise<void> {
    loading.value = true
    try {
      list.value = sortNewestFirst(await bridge['datasets.list']({}))
      loadError.value = null
      loaded.value = true
      if (selectedId.value && !list.value.some((d) => d.id === selectedId.value)) select(null)
    } catch (err) {
      loadError.value = app.reportError(err, 'Could not list datasets')
    } finally {
      loading.value = false
    }
  }

  function upsert(summary: DatasetSummary): void {
    list.value = sortNewestFirst([summary, ...list.value.filter((d) => d.id !== summary.id)])
  }

  /** Imports a folder; progress arrives as `datasets.progress` events. Resolves to the summary, or null on failure. */
  async function importFolder(source: string, preprocess: Preprocess): Promise<DatasetSummary | null> {
    if (importing.value) {
      app.notify('An import is already running; wait for it to finish.', 'info')
      return null
    }
    importing.value = { source, phase: 'starting', done: 0, total: 0 }
    progressSource = null
    importError.value = null
    try {
      const summary = await bridge['datasets.import']({ source, preprocess })
      upsert(summary)
      select(summary.id)
      app.notify(
        `Imported “${summary.name}”: ${summary.count} usable image${summary.count === 1 ? '' : 's'}` +
          (summary.skipped.length ? `, ${summary.skipped.length} skipped.` : '.'),
        'success'
      )
      return summary
    } catch (err) {
      importError.value = app.reportError(err, 'Import failed')
      return null
    } finally {
      importing.value = null
    }
  }

  function select(id: string | null): void {
    if (selectedId.value === id && (id === null || grid.value?.id === id)) return
    selectedId.value = id
    grid.value = null
    loadingPages.clear()
  }

  /** Makes sure the images with index in [start, end) are loaded (or loading) for the selected dataset. */
  async function ensureImages(id: string, start: number, end: number): Promise<void> {
    if (selectedId.value !== id) return
    const firstPage = Math.floor(Math.max(0, start) / PAGE)
    const total = grid.value?.id === id ? grid.value.total : null
    const lastIndex = total === null ? Math.max(start, end - 1) : Math.min(end, total) - 1
    const lastPage = Math.floor(Math.max(0, lastIndex) / PAGE)
    const jobs: Promise<void>[] = []
    for (let page = firstPage; page <= lastPage; page++) {
      const key = `${id}:${page}`
      const g = grid.value
      if (loadingPages.has(key)) continue
      if (g && g.id === id && g.urls[page * PAGE] !== null && g.urls[page * PAGE] !== undefined) continue
      loadingPages.add(key)
      jobs.push(loadPage(id, page, key))
    }
    await Promise.all(jobs)
  }

  async function loadPage(id: string, page: number, key: string): Promise<void> {
    try {
      const res = await bridge['datasets.images']({ id, offset: page * PAGE, limit: PAGE })
      if (selectedId.value !== id) return
      let g = grid.value
      if (!g || g.id !== id || g.total !== res.total) {
        const urls = new Array<string | null>(res.total).fill(null)
        if (g && g.id === id) for (let i = 0; i < Math.min(urls.length, g.urls.length); i++) urls[i] = g.urls[i] ?? null
        g = { id, total: res.total, urls }
        grid.value = g
      }
      res.images.forEach((src, i) => {
        const index = page * PAGE + i
        if (index < g.urls.length) g.urls[index] = imageSrc(src, bridge.fileUrl)
      })
      triggerRef(grid)
    } catch (err) {
      loadingPages.delete(key)
      app.reportError(err, 'Could not load the dataset images')
    }
  }

  async function remove(id: string): Promise<boolean> {
    try {
      await bridge['datasets.delete']({ id })
      list.value = list.value.filter((d) => d.id !== id)
      if (selectedId.value === id) select(null)
      return true
    } catch (err) {
      app.reportError(err, 'Could not delete the dataset')
      return false
    }
  }

  /** How a folder's images will look with these settings, before importing it. */
  async function preview(
    source: string,
    preprocess: Preprocess,
    limit = 12
  ): Promise<Outcome<{ images: string[]; found: number }>> {
    try {
      const res = await bridge['datasets.preview']({ source, preprocess, limit })
      return { ok: true, value: { found: res.found, images: res.images.map((s) => imageSrc(s, bridge.fileUrl)) } }
    } catch (err) {
      return { ok: false, error: errorMessage(err) }
    }
  }

  /** A folder listing on the machine the studio runs on (the in-app folder picker). */
  async function listDir(path?: string): Promise<Outcome<Results['fs.listDir']>> {
    try {
      return { ok: true, value: await bridge['fs.listDir'](path ? { path } : {}) }
    } catch (err) {
      return { ok: false, error: errorMessage(err) }
    }
  }

  /** The system folder dialog (desktop). Null when cancelled or failed. */
  async function pickFolder(): Promise<string | null> {
    try {
      return (await bridge['dialog.pickFolder']({})).path
    } catch (err) {
      app.reportError(err, 'Could not open the folder dialog')
      return null
    }
  }

  return {
    list,
    loaded,
    loading,
    loadError,
    importing,
    importError,
    selectedId,
    selected,
    newest,
    grid,
    load,
    importFolder,
    select,
    ensureImages,
    remove,
    preview,
    listDir,
    pickFolder,
    pathForDroppedFile
  }
})
