import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { CompareResult } from '@shared/contract'
import type { MetricRecord, RunSummary } from '@shared/runs'
import { getBridge } from '../bridge'
import { imageSrc, runFilePath } from '../lib/images'
import { useAppStore } from './app'
import { useRunsStore } from './runs'

export const MIN_RUNS = 2
export const MAX_RUNS = 6
export type AlignBy = 'step' | 'imagesSeen'

/** The snapshot step nearest `step` (the earlier one on a tie), or null when there is none. */
export function nearestStep(steps: readonly number[], step: number): number | null {
  let best: number | null = null
  for (const s of steps) if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s
  return best
}

/** `{ x, y }` points of one metric for the overlay chart, x being steps or images seen. */
export function seriesPoints(records: readonly MetricRecord[], field: 'gLoss' | 'dLoss', alignBy: AlignBy): { x: number; y: number }[] {
  return records.filter((r) => Number.isFinite(r[field])).map((r) => ({ x: alignBy === 'step' ? r.step : r.imagesSeen, y: r[field] }))
}

/** Tags typed as "a, b,  c" → ["a", "b", "c"] (unique, trimmed, no empties). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))]
}

/**
 * The Compare view's state: the runs picked (2 to 6), what the main side compared (settings that
 * differ, metrics, sample steps, summary), how the curves are aligned, the step whose grids are
 * shown, and editing a run's tags and note.
 */
export const useCompareStore = defineStore('compare', () => {
  const bridge = getBridge()
  const app = useAppStore()
  const runs = useRunsStore()

  const selected = ref<string[]>([])
  const result = shallowRef<CompareResult | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const alignBy = ref<AlignBy>('step')
  /** The step whose fixed-seed grids are shown side by side. */
  const step = ref(0)
  const savingMeta = ref<Record<string, boolean>>({})

  const canCompare = computed(() => selected.value.length >= MIN_RUNS && selected.value.length <= MAX_RUNS)
  const maxStep = computed(() => Math.max(0, ...(result.value?.sampleSteps.flat() ?? [0])))
  /** Every step some run has a grid for, ascending (the slider's stops). */
  const gridSteps = computed(() => [...new Set(result.value?.sampleSteps.flat() ?? [])].sort((a, b) => a - b))
  const grids = computed(() => {
    const r = result.value
    if (!r) return []
    return r.runs.map((run, i) => {
      const s = nearestStep(r.sampleSteps[i] ?? [], step.value)
      return { run, step: s, url: s === null ? null : imageSrc(runFilePath(run.id, `samples/step-${String(s).padStart(6, '0')}.png`), bridge.fileUrl) }
    })
  })

  function toggle(id: string): void {
    if (selected.value.includes(id)) selected.value = selected.value.filter((s) => s !== id)
    else if (selected.value.length < MAX_RUNS) selected.value = [...selected.value, id]
  }

  async function compare(): Promise<boolean> {
    if (!canCompare.value) return false
    const ids = [...selected.value]
    loading.value = true
    try {
      const r = await bridge['compare.runs']({ ids })
      result.value = r
      step.value = r.step
      error.value = null
      return true
    } catch (err) {
      error.value = app.reportError(err, 'Could not compare the runs')
      return false
    } finally {
      loading.value = false
    }
  }

  function replaceRun(summary: RunSummary): void {
    const r = result.value
    if (!r) return
    result.value = { ...r, runs: r.runs.map((x) => (x.id === summary.id ? summary : x)) }
  }

  /** Saves a run's tags and note (run.json, through runs.update). */
  async function updateMeta(id: string, meta: { tags: string[]; note: string }): Promise<boolean> {
    savingMeta.value = { ...savingMeta.value, [id]: true }
    try {
      const summary = await bridge['runs.update']({ id, tags: meta.tags, note: meta.note })
      replaceRun(summary)
      runs.upsert(summary)
      app.notify(`Saved the tags and note of ${summary.name}.`, 'success')
      return true
    } catch (err) {
      app.reportError(err, 'Could not save the tags and note')
      return false
    } finally {
      const next = { ...savingMeta.value }
      delete next[id]
      savingMeta.value = next
    }
  }

  return { selected, result, loading, error, alignBy, step, savingMeta, canCompare, maxStep, gridSteps, grids, toggle, compare, updateMeta }
})
