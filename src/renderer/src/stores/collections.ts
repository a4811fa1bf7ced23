import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { Collection } from '@shared/collections'
import type { JobProgress, RequestParams } from '@shared/contract'
import { getBridge } from '../bridge'
import { useAppStore } from './app'

/** A collection item to add: a seed, or a latent with a label saying where it came from. */
export type NewCollectionItem = { seed: number; label?: string } | { latent: number[]; label?: string }

type Change = RequestParams<'explore.collection'>
/** One change without the run id (Omit over a union would merge its members). */
type ChangeOf = Change extends infer C ? (C extends Change ? Omit<C, 'id'> : never) : never

/**
 * A run's named collections of seeds and latents (stored in the run folder, so they survive
 * sessions and travel with it): which one is current, adding and removing items, previews of
 * what it holds, and exporting it as PNGs.
 */
export const useCollectionsStore = defineStore('collections', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const collections = ref<Collection[]>([])
  const current = ref<string | null>(null)
  /** Item id → image (data URL) from the last preview. */
  const previews = shallowRef<Record<string, string>>({})
  const busy = ref(false)
  const exported = ref<{ dir: string; count: number } | null>(null)
  /** The export running now: its job id (for jobs.cancel) and how far it has got. */
  const exportJobId = ref<string | null>(null)
  const exportProgress = ref<JobProgress | null>(null)
  const cancellingExport = ref(false)
  /** Set when the last export was cancelled (nothing more was written). */
  const exportCancelled = ref(false)
  let exportCounter = 0

  bridge.on('jobs.progress', (p) => {
    if (p.kind === 'export' && p.jobId === exportJobId.value) exportProgress.value = p
  })

  const currentCollection = computed(() => collections.value.find((c) => c.name === current.value) ?? null)

  function accept(id: string, next: Collection[]): void {
    if (runId.value !== id) return
    collections.value = next
    if (current.value && !next.some((c) => c.name === current.value)) current.value = next[0]?.name ?? null
    if (!current.value) current.value = next[0]?.name ?? null
  }

  async function load(id: string | null): Promise<void> {
    runId.value = id
    collections.value = []
    current.value = null
    previews.value = {}
    exported.value = null
    if (!id) return
    try {
      accept(id, (await bridge['explore.collections']({ id })).collections)
    } catch (err) {
      app.reportError(err, 'Could not read the collections')
    }
  }

  async function change(params: ChangeOf, context: string): Promise<boolean> {
    const id = runId.value
    if (!id) return false
    busy.value = true
    try {
      const r = await bridge['explore.collection']({ id, ...params } as Change)
      accept(id, r.collections)
      return true
    } catch (err) {
      app.reportError(err, context)
      return false
    } finally {
      busy.value = false
    }
  }

  async function create(name: string): Promise<boolean> {
    const ok = await change({ action: 'create', name }, 'Could not make the collection')
    if (ok) current.value = collections.value.find((c) => c.name.toLowerCase() === name.trim().toLowerCase())?.name ?? current.value
    return ok
  }

  async function rename(newName: string): Promise<boolean> {
    const name = current.value
    if (!name) return false
    const ok = await change({ action: 'rename', name, newName }, 'Could not rename the collection')
    if (ok) current.value = newName.trim()
    return ok
  }

  const removeCurrent = (): Promise<boolean> => (current.value ? change({ action: 'delete', name: current.value }, 'Could not delete the collection') : Promise.resolve(false))

  /** Adds to the current collection, making one called "Picks" when there is none yet. */
  async function add(items: NewCollectionItem[]): Promise<boolean> {
    const name = current.value ?? 'Picks'
    const ok = await change({ action: 'add', name, items, create: true }, 'Could not add to the collection')
    if (ok) current.value = name
    return ok
  }

  const removeItem = (itemId: string): Promise<boolean> =>
    current.value ? change({ action: 'remove', name: current.value, itemIds: [itemId] }, 'Could not remove the item') : Promise.resolve(false)

  /** Renders every item of the current collection (seeds and latents alike). */
  async function preview(opts: { truncation: number; checkpoint: string | null }): Promise<boolean> {
    const id = runId.value
    const c = currentCollection.value
    if (!id || !c || c.items.length === 0) return false
    busy.value = true
    try {
      const items = c.items.slice(0, 256).map((i) => (i.latent ? { latent: i.latent } : { seed: i.seed! }))
      const r = await bridge['explore.render']({ id, items, truncation: opts.truncation, ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}) })
      if (runId.value !== id) return false
      const next: Record<string, string> = {}
      c.items.slice(0, 256).forEach((item, i) => (next[item.id] = r.images[i]!))
      previews.value = next
      return true
    } catch (err) {
      app.reportError(err, 'Could not show the collection')
      return false
    } finally {
      busy.value = false
    }
  }

  async function exportCurrent(opts: { truncation: number; upscale: 1 | 2 | 4; checkpoint: string | null }): Promise<boolean> {
    const id = runId.value
    const name = current.value
    if (!id || !name) return false
    busy.value = true
    const jobId = `collection-${Date.now().toString(36)}-${(exportCounter++).toString(36)}`
    exportJobId.value = jobId
    exportProgress.value = null
    exportCancelled.value = false
    exported.value = null
    try {
      const r = await bridge['explore.exportCollection']({
        id,
        name,
        truncation: opts.truncation,
        upscale: opts.upscale,
        jobId,
        ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {})
      })
      exported.value = { dir: r.dir, count: r.count }
      return true
    } catch (err) {
      if ((err as { code?: string }).code === 'cancelled') exportCancelled.value = true
      else app.reportError(err, 'Could not export the collection')
      return false
    } finally {
      busy.value = false
      exportJobId.value = null
      exportProgress.value = null
      cancellingExport.value = false
    }
  }

  /** Stops the running export at its next image. */
  async function cancelExport(): Promise<void> {
    const jobId = exportJobId.value
    if (!jobId || cancellingExport.value) return
    cancellingExport.value = true
    try {
      await bridge['jobs.cancel']({ jobId })
    } catch (err) {
      cancellingExport.value = false
      app.reportError(err, 'Could not cancel the export')
    }
  }

  return {
    runId,
    collections,
    current,
    currentCollection,
    previews,
    busy,
    exported,
    exportJobId,
    exportProgress,
    cancellingExport,
    exportCancelled,
    load,
    create,
    rename,
    removeCurrent,
    add,
    removeItem,
    preview,
    exportCurrent,
    cancelExport
  }
})
