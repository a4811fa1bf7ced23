import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RunConfig } from '@shared/config'
import type { RunSummary } from '@shared/runs'
import { getBridge } from '../bridge'
import { imageSrc, runFilePath } from '../lib/images'
import { useAppStore } from './app'

export type RunAction = 'pause' | 'resume' | 'stop'

function newestFirst(a: RunSummary, b: RunSummary): number {
  return b.createdAt.localeCompare(a.createdAt)
}

/** Whether a run can be continued from its last checkpoint. */
export function canResume(run: Pick<RunSummary, 'status' | 'resumable'>): boolean {
  return run.status === 'paused' || ((run.status === 'stopped' || run.status === 'failed') && run.resumable)
}

/** The run library and the controls that act on runs (start, pause, resume, stop, rename, delete). */
export const useRunsStore = defineStore('runs', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const list = ref<RunSummary[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const loadError = ref<string | null>(null)
  /** A control request sent and not yet confirmed by a status event, per run id. */
  const pending = ref<Record<string, RunAction>>({})
  const starting = ref(false)

  const active = computed(() => list.value.filter((r) => r.status === 'running' || r.status === 'paused'))

  function patch(id: string, change: Partial<RunSummary>): void {
    const i = list.value.findIndex((r) => r.id === id)
    if (i < 0) return
    const next = [...list.value]
    next[i] = { ...next[i]!, ...change }
    list.value = next
  }

  function upsert(summary: RunSummary): void {
    list.value = [summary, ...list.value.filter((r) => r.id !== summary.id)].sort(newestFirst)
  }

  function clearPending(id: string): void {
    if (!(id in pending.value)) return
    const next = { ...pending.value }
    delete next[id]
    pending.value = next
  }

  /** State changes from events that arrived while the list was loading, re-applied on top of it. */
  let replay: (() => void)[] | null = null
  function apply(fn: () => void): void {
    fn()
    replay?.push(fn)
  }

  // Subscribe before the first snapshot so nothing is missed.
  bridge.on('train.progress', (p) =>
    apply(() => {
      const run = list.value.find((r) => r.id === p.runId)
      if (run && (run.step !== p.step || run.steps !== p.steps)) patch(p.runId, { step: p.step, steps: p.steps })
    })
  )
  bridge.on('train.status', (s) => {
    const known = list.value.some((r) => r.id === s.runId)
    apply(() => patch(s.runId, { status: s.status, error: s.error }))
    const action = pending.value[s.runId]
    if (
      (action === 'pause' && s.status !== 'running') ||
      (action === 'resume' && s.status !== 'paused') ||
      (action === 'stop' && s.status !== 'running' && s.status !== 'paused')
    )
      clearPending(s.runId)
    if (s.status === 'failed' && s.error) app.notify(`Training failed: ${s.error.message}`, 'error')
    // The summary's resumable flag and thumbnail are the main side's to decide: fetch the real one.
    if (!known || s.status !== 'running') void refreshOne(s.runId)
  })
  bridge.on('train.sample', (sample) => apply(() => patch(sample.runId, { thumbnail: sample.file })))
  app.onReconnect(() => void load())

  async function load(): Promise<void> {
    loading.value = true
    const mine = replay === null
    if (mine) replay = []
    try {
      const fresh = [...(await bridge['runs.list']({}))].sort(newestFirst)
      list.value = fresh
      for (const fn of replay ?? []) fn()
      loadError.value = null
      loaded.value = true
    } catch (err) {
      loadError.value = app.reportError(err, 'Could not list runs')
    } finally {
      if (mine) replay = null
      loading.value = false
    }
  }

  async function refreshOne(id: string): Promise<void> {
    try {
      const detail = await bridge['runs.get']({ id })
      upsert(detail.summary)
    } catch {
      // The list will catch up on the next load; a failed refresh is not worth a message.
    }
  }

  /** Starts a run. Resolves to its summary, or null when it could not start (the reason is shown). */
  async function start(config: RunConfig, from?: { id: string }): Promise<RunSummary | null> {
    starting.value = true
    try {
      const summary = await bridge['runs.start']({ config, ...(from ? { from } : {}) })
      upsert(summary)
      return summary
    } catch (err) {
      app.reportError(err, 'Could not start training')
      return null
    } finally {
      starting.value = false
    }
  }

  async function control(id: string, action: RunAction, steps?: number): Promise<RunSummary | null> {
    pending.value = { ...pending.value, [id]: action }
    try {
      const summary =
        action === 'pause'
          ? await bridge['runs.pause']({ id })
          : action === 'resume'
            ? await bridge['runs.resume'](steps ? { id, steps } : { id })
            : await bridge['runs.stop']({ id })
      upsert(summary)
      const settled =
        (action === 'pause' && summary.status !== 'running') ||
        (action === 'resume' && summary.status === 'running') ||
        (action === 'stop' && summary.status !== 'running' && summary.status !== 'paused')
      // Resume is confirmed as soon as the run is running; pause and stop wait for the trainer.
      if (settled) clearPending(id)
      return summary
    } catch (err) {
      clearPending(id)
      const verb = action === 'pause' ? 'pause' : action === 'resume' ? 'resume' : 'stop'
      app.reportError(err, `Could not ${verb} the run`)
      return null
    }
  }

  const pause = (id: string) => control(id, 'pause')
  const resume = (id: string, steps?: number) => control(id, 'resume', steps)
  const stop = (id: string) => control(id, 'stop')

  async function rename(id: string, name: string): Promise<boolean> {
    try {
      upsert(await bridge['runs.rename']({ id, name }))
      return true
    } catch (err) {
      app.reportError(err, 'Could not rename the run')
      return false
    }
  }

  async function remove(id: string): Promise<boolean> {
    try {
      await bridge['runs.delete']({ id })
      list.value = list.value.filter((r) => r.id !== id)
      return true
    } catch (err) {
      app.reportError(err, 'Could not delete the run')
      return false
    }
  }

  async function openFolder(id: string): Promise<void> {
    try {
      const { path } = await bridge['runs.openFolder']({ id })
      if (app.mode === 'browser') app.notify(`The run’s folder on the studio machine: ${path}`, 'info')
    } catch (err) {
      app.reportError(err, 'Could not open the folder')
    }
  }

  function thumbnailUrl(run: Pick<RunSummary, 'id' | 'thumbnail'>): string | null {
    return run.thumbnail ? imageSrc(runFilePath(run.id, run.thumbnail), bridge.fileUrl) : null
  }

  return {
    list,
    loaded,
    loading,
    loadError,
    pending,
    starting,
    active,
    load,
    start,
    pause,
    resume,
    stop,
    rename,
    remove,
    openFolder,
    thumbnailUrl,
    upsert
  }
})
