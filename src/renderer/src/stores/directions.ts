import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { JobProgress } from '@shared/contract'
import { applyDirections, DIRECTION_RANGE_SIGMAS, scaledVector, type DirectionsInfo, type SavedDirection } from '@shared/directions'
import { latentForSeed } from '@shared/seed-latent'
import { getBridge } from '../bridge'
import { errorCode } from '../lib/errors'
import { useAppStore } from './app'

/** One slider: a principal direction of the run, or a saved one. Amounts are in standard deviations (saved: times its scale). */
export interface DirectionSlider {
  /** `pc<N>` or `saved:<id>`. */
  key: string
  label: string
  /** With the saved direction's scale in it: amount × vector is the move. */
  vector: number[]
  min: number
  max: number
  /** Share of the early features' variance (principal directions only). */
  explained: number | null
  component: number | null
  saved: SavedDirection | null
}

/** Where the dialog starts from: a seed, or a latent (before ψ) with a name. */
export type DirectionsSource = { seed: number } | { latent: number[]; label: string }

/** Amounts of the strip under the preview: the current image moved along one direction. */
export const STRIP_AMOUNTS = [-2, -1, 0, 1, 2] as const
/** Slider steps (standard deviations); ranges are whole steps so that 0 is on the scale. */
export const SLIDER_STEP = 0.05
const onScale = (reach: number): number => Math.max(SLIDER_STEP, Math.floor(reach / SLIDER_STEP + 1e-9) * SLIDER_STEP)
const PREVIEW_DELAY_MS = 40
const STRIP_DELAY_MS = 250

let seq = 0
const nextJobId = (kind: string): string => `${kind}-${Date.now().toString(36)}-${(seq++).toString(36)}`

/** "+1.5", "−0.8": an amount as a person reads it. */
export function formatAmount(a: number): string {
  const r = Math.round(a * 10) / 10
  return r === 0 ? '0' : `${r > 0 ? '+' : '−'}${Math.abs(r).toFixed(1)}`
}

/**
 * Directions (sliders) on one image: the run's principal directions (computed by a trainer child
 * the first time for a checkpoint, with progress and cancel; cached in the run folder after) and
 * its saved ones, each a slider; the edited latent is z + Σ amount · direction, previewed live
 * (renders are debounced, the newest wins, a stale one is cancelled); a strip shows one direction
 * at −2…+2 around the current image; directions are saved, renamed and deleted by name.
 */
export const useDirectionsStore = defineStore('directions', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const checkpoint = ref<string | null>(null)
  const truncation = ref(1)

  const info = shallowRef<DirectionsInfo | null>(null)
  const saved = shallowRef<SavedDirection[]>([])
  const computing = ref(false)
  const progress = ref<JobProgress | null>(null)
  const computeFailed = ref<string | null>(null)
  let computeJob: string | null = null

  /** The image the sliders start from: a seed's latent is known once the directions say the run's latent size. */
  const base = shallowRef<{ latent: number[] | null; label: string; seed: number | null } | null>(null)
  const amounts = ref<Record<string, number>>({})
  const preview = ref<string | null>(null)
  const original = ref<string | null>(null)
  const previewBusy = ref(false)
  const stripKey = ref('pc1')
  const strip = shallowRef<string[]>([])
  const stripBusy = ref(false)

  let previewTimer: ReturnType<typeof setTimeout> | null = null
  /** The session whose render is in flight, if any. */
  let previewRunning: number | null = null
  let previewAgain = false
  /** Bumped when the dialog opens or closes: renders of an earlier image are dropped. */
  let session = 0
  let stripTimer: ReturnType<typeof setTimeout> | null = null
  let stripJob: string | null = null
  let stripSeq = 0

  bridge.on('jobs.progress', (p) => {
    if (p.kind === 'directions' && p.jobId === computeJob) progress.value = p
  })

  const sliders = computed<DirectionSlider[]>(() => {
    const out: DirectionSlider[] = (info.value?.components ?? []).map((c) => ({
      key: `pc${c.component}`,
      label: `PC${c.component}`,
      vector: c.vector,
      min: -onScale(c.range[1]),
      max: onScale(c.range[1]),
      explained: c.explained,
      component: c.component,
      saved: null
    }))
    for (const d of saved.value) {
      if (d.vector.length !== info.value?.latentDim) continue
      out.push({ key: `saved:${d.id}`, label: d.name, vector: scaledVector(d), min: -DIRECTION_RANGE_SIGMAS, max: DIRECTION_RANGE_SIGMAS, explained: null, component: d.component, saved: d })
    }
    return out
  })
  const byKey = computed(() => new Map(sliders.value.map((s) => [s.key, s])))
  const offsets = computed(() => sliders.value.filter((s) => (amounts.value[s.key] ?? 0) !== 0).map((s) => ({ vector: s.vector, amount: amounts.value[s.key]! })))
  const edited = computed(() => offsets.value.length > 0)
  /** The current image's latent (before ψ). */
  const latent = computed<number[] | null>(() => (base.value?.latent ? applyDirections(base.value.latent, offsets.value) : null))
  /** The move the sliders make together (for saving it as one direction). */
  const mix = computed<number[] | null>(() => (edited.value && base.value?.latent ? applyDirections(new Array<number>(base.value.latent.length).fill(0), offsets.value) : null))
  /** "seed 42 · PC1 +1.5 · Glow −0.8" */
  const label = computed(() => {
    if (!base.value) return ''
    const moves = sliders.value.filter((s) => (amounts.value[s.key] ?? 0) !== 0).map((s) => `${s.label} ${formatAmount(amounts.value[s.key]!)}`)
    return [base.value.label, ...moves].join(' · ')
  })
  const stripSlider = computed(() => byKey.value.get(stripKey.value) ?? sliders.value[0] ?? null)

  function clearTimers(): void {
    if (previewTimer) clearTimeout(previewTimer)
    if (stripTimer) clearTimeout(stripTimer)
    previewTimer = null
    stripTimer = null
  }

  function cancelJob(jobId: string | null): void {
    if (jobId) bridge['jobs.cancel']({ jobId }).catch(() => undefined)
  }

  async function renderItems(items: ({ latent: number[] } | { seed: number })[], jobId: string): Promise<string[]> {
    const id = runId.value!
    const r = await bridge['explore.render']({ id, items, truncation: truncation.value, jobId, ...(checkpoint.value ? { checkpoint: checkpoint.value } : {}) })
    return r.images
  }

  /**
   * Renders the current image. While one render runs, further requests wait and only the newest is
   * rendered next; every finished render is shown, so the image keeps changing while a slider is dragged.
   */
  async function renderPreview(): Promise<void> {
    if (previewRunning === session) {
      previewAgain = true
      return
    }
    const z = latent.value
    const seed = base.value?.seed ?? null
    const mine = session
    if ((!z && seed === null) || !runId.value) return
    previewRunning = mine
    previewBusy.value = true
    try {
      const [image] = await renderItems([z ? { latent: z } : { seed: seed! }], nextJobId('direction-preview'))
      if (mine === session) {
        preview.value = image ?? null
        if (!edited.value && !original.value) original.value = image ?? null
      }
    } catch (err) {
      if (mine === session && errorCode(err) !== 'cancelled') app.reportError(err, 'Could not render the image')
    } finally {
      if (previewRunning === mine) previewRunning = null
      if (mine === session) {
        if (previewAgain) {
          previewAgain = false
          void renderPreview()
        } else previewBusy.value = false
      }
    }
  }

  function schedulePreview(delay = PREVIEW_DELAY_MS): void {
    if (previewTimer) clearTimeout(previewTimer)
    previewTimer = setTimeout(() => {
      previewTimer = null
      void renderPreview()
    }, delay)
  }

  /** The strip: the current image moved along the strip's direction at −2…+2 (a newer request cancels an older one). */
  async function renderStrip(): Promise<void> {
    const s = stripSlider.value
    const z = latent.value
    if (!s || !z || !runId.value) return
    const mine = ++stripSeq
    cancelJob(stripJob)
    const jobId = nextJobId('direction-strip')
    stripJob = jobId
    stripBusy.value = true
    try {
      const images = await renderItems(
        STRIP_AMOUNTS.map((a) => ({ latent: applyDirections(z, [{ vector: s.vector, amount: a }]) })),
        jobId
      )
      if (mine === stripSeq) strip.value = images
    } catch (err) {
      if (mine === stripSeq && errorCode(err) !== 'cancelled') app.reportError(err, 'Could not render the strip')
    } finally {
      if (stripJob === jobId) stripJob = null
      if (mine === stripSeq) stripBusy.value = false
    }
  }

  function scheduleStrip(delay = STRIP_DELAY_MS): void {
    if (stripTimer) clearTimeout(stripTimer)
    stripTimer = setTimeout(() => {
      stripTimer = null
      void renderStrip()
    }, delay)
  }

  /** The run's principal directions (cached, else computed with progress) and saved ones. */
  async function loadDirections(recompute = false): Promise<boolean> {
    const id = runId.value
    if (!id) return false
    cancelJob(computeJob)
    const jobId = nextJobId('directions')
    computeJob = jobId
    computing.value = true
    computeFailed.value = null
    progress.value = null
    try {
      const [found, list] = await Promise.all([
        bridge['directions.components']({ id, count: 10, recompute, jobId, ...(checkpoint.value ? { checkpoint: checkpoint.value } : {}) }),
        bridge['directions.saved']({ id })
      ])
      if (computeJob !== jobId) return false
      info.value = found
      saved.value = list
      const b = base.value
      if (b && !b.latent && b.seed !== null) base.value = { ...b, latent: Array.from(latentForSeed(b.seed, found.latentDim)) }
      if (!byKey.value.has(stripKey.value)) stripKey.value = sliders.value[0]?.key ?? 'pc1'
      scheduleStrip(0)
      return true
    } catch (err) {
      if (computeJob === jobId) {
        if (errorCode(err) === 'cancelled') computeFailed.value = 'Finding the directions was cancelled.'
        else computeFailed.value = app.reportError(err, 'Could not find the directions')
      }
      return false
    } finally {
      if (computeJob === jobId) {
        computeJob = null
        computing.value = false
      }
    }
  }

  /** Opens the sliders on an image of a run: its own image at once, the directions as soon as they are known. */
  function open(id: string, source: DirectionsSource, opts: { truncation: number; checkpoint: string | null }): Promise<boolean> {
    close()
    runId.value = id
    truncation.value = opts.truncation
    checkpoint.value = opts.checkpoint
    base.value = 'seed' in source ? { latent: null, label: `seed ${source.seed}`, seed: source.seed } : { latent: [...source.latent], label: source.label, seed: null }
    void renderPreview()
    return loadDirections()
  }

  function setAmount(key: string, amount: number): void {
    const s = byKey.value.get(key)
    if (!s) return
    const clamped = Math.min(s.max, Math.max(s.min, amount))
    const next = { ...amounts.value }
    if (Math.abs(clamped) < 1e-9) delete next[key]
    else next[key] = clamped
    amounts.value = next
    schedulePreview()
    scheduleStrip()
  }

  function reset(): void {
    amounts.value = {}
    preview.value = original.value
    schedulePreview(0)
    scheduleStrip(0)
  }

  function showInStrip(key: string): void {
    if (!byKey.value.has(key) || key === stripKey.value) return
    stripKey.value = key
    strip.value = []
    scheduleStrip(0)
  }

  /** Takes strip image i: its amount is added to the strip direction's slider. */
  function takeFromStrip(i: number): void {
    const s = stripSlider.value
    const a = STRIP_AMOUNTS[i]
    if (!s || a === undefined || a === 0) return
    setAmount(s.key, (amounts.value[s.key] ?? 0) + a)
  }

  async function edit(params: { action: 'save'; name: string; vector: number[]; scale: number; component?: number } | { action: 'rename'; name: string; newName: string } | { action: 'delete'; name: string }): Promise<boolean> {
    const id = runId.value
    if (!id) return false
    try {
      const extra = params.action === 'save' && params.component !== undefined && info.value ? { checkpoint: info.value.checkpoint } : {}
      const list = await bridge['directions.edit']({ id, ...params, ...extra })
      if (runId.value !== id) return false
      const before = new Set(saved.value.map((d) => d.id))
      saved.value = list
      if (params.action === 'delete') {
        const gone = Object.keys(amounts.value).filter((k) => k.startsWith('saved:') && !list.some((d) => `saved:${d.id}` === k))
        if (gone.length) {
          const next = { ...amounts.value }
          for (const k of gone) delete next[k]
          amounts.value = next
          schedulePreview(0)
        }
        if (!byKey.value.has(stripKey.value)) showInStrip(sliders.value[0]?.key ?? 'pc1')
      }
      if (params.action === 'save') {
        const fresh = list.find((d) => !before.has(d.id))
        if (fresh) app.notify(`Saved the direction “${fresh.name}” with the run.`, 'success')
      }
      return true
    } catch (err) {
      app.reportError(err, params.action === 'save' ? 'Could not save the direction' : params.action === 'rename' ? 'Could not rename the direction' : 'Could not delete the direction')
      return false
    }
  }

  /**
   * Saves a direction by name: a principal one (`pc<N>`, optionally flipped, with a scale), or the
   * current mix of sliders (an amount of 1 then makes the current edit).
   */
  function saveDirection(name: string, key: string, opts: { flip: boolean; scale: number }): Promise<boolean> {
    if (key === 'mix') {
      const m = mix.value
      if (!m) return Promise.resolve(false)
      const length = Math.hypot(...m)
      const sign = opts.flip ? -1 : 1
      return edit({ action: 'save', name, vector: m.map((v) => sign * v), scale: Math.min(100, Math.max(0.01, length * opts.scale)) })
    }
    const s = byKey.value.get(key)
    if (!s || s.component === null || s.saved) return Promise.resolve(false)
    return edit({ action: 'save', name, vector: s.vector.map((v) => (opts.flip ? -v : v)), scale: opts.scale, component: s.component })
  }

  function cancelCompute(): void {
    cancelJob(computeJob)
  }

  function close(): void {
    clearTimers()
    cancelJob(computeJob)
    cancelJob(stripJob)
    computeJob = null
    stripJob = null
    session++
    stripSeq++
    previewAgain = false
    runId.value = null
    info.value = null
    saved.value = []
    base.value = null
    amounts.value = {}
    preview.value = null
    original.value = null
    strip.value = []
    stripKey.value = 'pc1'
    computing.value = false
    computeFailed.value = null
    progress.value = null
    previewBusy.value = false
    stripBusy.value = false
  }

  return {
    runId,
    checkpoint,
    truncation,
    info,
    saved,
    computing,
    progress,
    computeFailed,
    base,
    amounts,
    preview,
    original,
    previewBusy,
    stripKey,
    strip,
    stripBusy,
    sliders,
    edited,
    latent,
    mix,
    label,
    stripSlider,
    open,
    loadDirections,
    setAmount,
    reset,
    showInStrip,
    takeFromStrip,
    saveDirection,
    edit,
    cancelCompute,
    close
  }
})
