import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobProgress } from '@shared/contract'
import { getBridge } from '../bridge'
import { imageSrc, runFilePath } from '../lib/images'
import { useAppStore } from './app'

export type TimelapseFormat = 'gif' | 'webp'

let counter = 0

/**
 * The run view's timelapse export: the run's sample grids (or one cell), oldest first, as an
 * animated GIF or WebP written under the run's exports/timelapse/, with progress from
 * `jobs.progress` events.
 */
export const useTimelapseStore = defineStore('timelapse', () => {
  const bridge = getBridge()
  const app = useAppStore()

  /** null: the whole grid; else one cell, counted from 0 row by row. */
  const cell = ref<number | null>(null)
  const format = ref<TimelapseFormat>('gif')
  const fps = ref(6)
  const busy = ref(false)
  const jobId = ref<string | null>(null)
  const progress = ref<JobProgress | null>(null)
  const result = ref<{ runId: string; file: string; frames: number; steps: number[]; format: TimelapseFormat } | null>(null)

  bridge.on('jobs.progress', (p) => {
    if (p.kind === 'timelapse' && p.jobId === jobId.value) progress.value = p
  })

  async function make(runId: string): Promise<boolean> {
    if (busy.value) return false
    const id = `timelapse-${Date.now().toString(36)}-${(counter++).toString(36)}`
    jobId.value = id
    progress.value = { jobId: id, kind: 'timelapse', done: 0, total: 1, label: 'Starting' }
    busy.value = true
    result.value = null
    try {
      const f = format.value
      const r = await bridge['explore.timelapse']({ id: runId, format: f, fps: fps.value, jobId: id, ...(cell.value !== null ? { cell: cell.value } : {}) })
      result.value = { runId, ...r, format: f }
      return true
    } catch (err) {
      app.reportError(err, 'Could not make the timelapse')
      return false
    } finally {
      busy.value = false
      jobId.value = null
    }
  }

  const url = computed(() => (result.value ? imageSrc(runFilePath(result.value.runId, result.value.file), bridge.fileUrl) : null))

  return { cell, format, fps, busy, progress, result, url, make }
})
