import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { FindProgress, FindResult } from '@shared/contract'
import { getBridge } from '../bridge'
import { errorCode, errorMessage } from '../lib/errors'
import { useAppStore } from './app'

/** The picture to look for: a dropped or chosen file (as a data URL), or an image of the run's dataset. */
export type FindTargetChoice =
  | { kind: 'file'; dataUrl: string; name: string; preview: string }
  | { kind: 'dataset'; index: number; preview: string }

export const FIND_STEPS = [100, 200, 400, 800] as const
export const FIND_DEFAULT_STEPS = 200
export const FIND_DEFAULT_STARTS = 6

let counter = 0

/**
 * "Find my image": the latent whose image is closest to a picture. The search runs as a job in a
 * trainer child; its progress (and a preview of the best match now and then) comes as
 * `explore.findProgress` events, and it can be cancelled. The found latent is then used like any
 * seed: varied, kept in a collection, walked, saved.
 */
export const useFindStore = defineStore('find', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const checkpoint = ref<string | null>(null)
  /** The run's dataset (for picking one of its images), once known. */
  const dataset = ref<{ id: string; name: string; count: number } | null>(null)
  const target = shallowRef<FindTargetChoice | null>(null)
  const steps = ref<number>(FIND_DEFAULT_STEPS)
  const starts = ref<number>(FIND_DEFAULT_STARTS)
  const running = ref(false)
  const cancelling = ref(false)
  const jobId = ref<string | null>(null)
  const progress = shallowRef<FindProgress | null>(null)
  /** The best match so far while searching (data URL). */
  const preview = ref<string | null>(null)
  /** The target as the studio compares it (preprocessed like the run's dataset), once the search has it. */
  const compared = ref<string | null>(null)
  const result = shallowRef<FindResult | null>(null)
  const cancelled = ref(false)
  const error = ref<string | null>(null)

  bridge.on('explore.findProgress', (p) => {
    if (p.jobId !== jobId.value) return
    progress.value = p
    if (p.preview) preview.value = p.preview
    if (p.target) compared.value = p.target
  })

  async function open(id: string, opts: { checkpoint: string | null }): Promise<void> {
    if (runId.value !== id) {
      target.value = null
      result.value = null
      dataset.value = null
    }
    runId.value = id
    checkpoint.value = opts.checkpoint
    error.value = null
    cancelled.value = false
    if (!dataset.value) {
      try {
        const detail = await bridge['runs.get']({ id })
        if (runId.value === id) dataset.value = { id: detail.run.dataset.id, name: detail.run.dataset.name, count: detail.run.dataset.count }
      } catch {
        // The dataset cannot be browsed; dropping a file still works.
      }
    }
  }

  function choose(next: FindTargetChoice): void {
    if (running.value) return
    target.value = next
    result.value = null
    preview.value = null
    compared.value = null
    progress.value = null
    cancelled.value = false
    error.value = null
  }

  async function start(): Promise<boolean> {
    const id = runId.value
    const t = target.value
    if (!id || !t || running.value) return false
    // The number field may hold anything a person typed: keep it within what the studio takes.
    starts.value = Number.isFinite(starts.value) ? Math.min(16, Math.max(1, Math.round(starts.value))) : FIND_DEFAULT_STARTS
    const job = `find-${Date.now().toString(36)}-${(counter++).toString(36)}`
    jobId.value = job
    running.value = true
    cancelling.value = false
    cancelled.value = false
    error.value = null
    result.value = null
    preview.value = null
    progress.value = { jobId: job, phase: 'screen', done: 0, total: steps.value, loss: null, preview: null }
    try {
      const r = await bridge['explore.find']({
        id,
        jobId: job,
        image: t.kind === 'file' ? { dataUrl: t.dataUrl, name: t.name } : { datasetImage: t.index },
        steps: steps.value,
        starts: starts.value,
        ...(checkpoint.value ? { checkpoint: checkpoint.value } : {})
      })
      if (jobId.value !== job) return false
      result.value = r
      preview.value = r.image
      compared.value = r.target
      return true
    } catch (err) {
      if (jobId.value !== job) return false
      if (errorCode(err) === 'cancelled') cancelled.value = true
      else error.value = errorMessage(err, 'The search failed.')
      return false
    } finally {
      if (jobId.value === job) {
        running.value = false
        cancelling.value = false
        jobId.value = null
      }
    }
  }

  /** Stops the search at its next step; nothing is kept. */
  async function cancel(): Promise<void> {
    const job = jobId.value
    if (!job || cancelling.value) return
    cancelling.value = true
    try {
      await bridge['jobs.cancel']({ jobId: job })
    } catch (err) {
      cancelling.value = false
      app.reportError(err, 'Could not cancel the search')
    }
  }

  /** Closing the dialog: a running search is cancelled; the last result stays for the next opening. */
  function close(): void {
    if (running.value) void cancel()
  }

  return { runId, checkpoint, dataset, target, steps, starts, running, cancelling, progress, preview, compared, result, cancelled, error, open, choose, start, cancel, close }
})
