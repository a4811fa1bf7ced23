import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef, watch } from 'vue'
import type { Events, LogLine } from '@shared/contract'
import type { StudioErrorShape } from '@shared/errors'
import { qualityPoints, type QualityPoint, type RunJson, type RunStatus, type RunSummary, type SampleSnapshot } from '@shared/runs'
import { getBridge } from '../bridge'
import { MetricBuffer } from '../charts/buffer'
import { errorMessage } from '../lib/errors'
import { runFilePath } from '../lib/images'
import { withQuality } from '../lib/quality'
import { useAppStore } from './app'

const SMOOTHING_KEY = 'gan-studio.smoothing'
const MAX_LOG_LINES = 300

export interface LiveProgress {
  step: number
  steps: number
  imagesPerSec: number | null
  etaMs: number | null
}

function readSmoothing(): number {
  try {
    const v = Number(globalThis.localStorage?.getItem(SMOOTHING_KEY))
    return Number.isFinite(v) && v >= 0 && v < 1 && globalThis.localStorage?.getItem(SMOOTHING_KEY) !== null ? v : 0.6
  } catch {
    return 0.6
  }
}

/** Sorted by step, one snapshot per step. */
function insertSample(list: SampleSnapshot[], sample: SampleSnapshot): SampleSnapshot[] {
  const next = list.filter((s) => s.step !== sample.step)
  next.push(sample)
  next.sort((a, b) => a.step - b.step)
  return next
}

/**
 * The run open in the Run view: its metrics (for the charts), sample snapshots, progress, status
 * and log, kept live from the train.* events. Events that arrive while the snapshot is loading are
 * held and applied after it, so nothing is missed and nothing is counted twice.
 */
export const useLiveRunStore = defineStore('liveRun', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const run = shallowRef<RunJson | null>(null)
  const summary = shallowRef<RunSummary | null>(null)
  const status = ref<RunStatus | null>(null)
  const runError = ref<StudioErrorShape | null>(null)
  const loading = ref(false)
  const loadError = ref<string | null>(null)
  const progress = ref<LiveProgress | null>(null)
  const samples = shallowRef<SampleSnapshot[]>([])
  const logs = shallowRef<LogLine[]>([])
  const smoothing = ref(readSmoothing())
  /** All metric points; not reactive itself (100k+ points) — watch `metricsVersion`. */
  const buffer = markRaw(new MetricBuffer(smoothing.value))
  const metricsVersion = ref(0)
  /** The quality meter's measurements (sparse: every few hundred steps). */
  const quality = shallowRef<QualityPoint[]>([])
  /** Training time of the newest metric (ms since the run began). */
  const lastMetricT = ref(0)

  let loadSeq = 0
  /** Events for the open run that arrived while its snapshot was loading. */
  let held: (() => void)[] | null = null
  /** Newest step in the loaded snapshot: held metrics at or before it are duplicates. */
  let snapshotStep = -1

  const latestSample = computed(() => samples.value[samples.value.length - 1] ?? null)
  const isLive = computed(() => status.value === 'running' || status.value === 'paused')
  const trainedMs = computed(() => Math.max(run.value?.trainingMs ?? 0, lastMetricT.value))

  watch(smoothing, (w) => {
    buffer.setSmoothing(w)
    metricsVersion.value = buffer.version
    try {
      globalThis.localStorage?.setItem(SMOOTHING_KEY, String(w))
    } catch {
      // not remembered; no harm
    }
  })

  function whenReady(fn: () => void): void {
    if (held) held.push(fn)
    else fn()
  }

  // Subscribe before any snapshot is loaded so nothing is missed.
  bridge.on('train.progress', (p) => {
    if (p.runId === runId.value) whenReady(() => applyProgress(p, held !== null))
  })
  bridge.on('train.sample', (s) => {
    if (s.runId === runId.value) whenReady(() => (samples.value = insertSample(samples.value, s)))
  })
  bridge.on('train.status', (s) => {
    if (s.runId === runId.value) whenReady(() => applyStatus(s))
  })
  bridge.on('train.log', (line) => {
    if (line.runId === runId.value && runId.value !== null) {
      const next = logs.value.length >= MAX_LOG_LINES ? logs.value.slice(-MAX_LOG_LINES + 1) : [...logs.value]
      next.push(line)
      logs.value = next
    }
  })
  app.onReconnect(() => {
    if (runId.value) void refresh()
  })

  let backendAsked = false

  function applyProgress(p: Events['train.progress'], fromHold: boolean): void {
    progress.value = { step: p.step, steps: p.steps, imagesPerSec: p.imagesPerSec, etaMs: p.etaMs }
    // Which backend the trainer settled on is known once it has taken a step: ask once.
    if (summary.value && !summary.value.backend && !backendAsked) {
      backendAsked = true
      void refreshDetail(p.runId)
    }
    // A live step means the run is training, even if its status event is still on the way.
    if (!fromHold && status.value !== 'running') status.value = 'running'
    const m = p.metric
    if (!m) return
    // A held event the snapshot already contains is a duplicate; a live one going back in steps
    // means the run resumed from an older checkpoint, and the buffer rewinds to it.
    if (fromHold && m.step <= snapshotStep) return
    buffer.append([m])
    quality.value = withQuality(quality.value, m)
    if (Number.isFinite(m.t)) lastMetricT.value = m.t
    metricsVersion.value = buffer.version
  }

  function applyStatus(s: Events['train.status']): void {
    status.value = s.status
    runError.value = s.error
    if (s.status !== 'running' && progress.value) progress.value = { ...progress.value, etaMs: null }
    // Whether it can resume, and from which checkpoint, is the main side's to say: ask it.
    if (s.status !== 'running') void refreshDetail(s.runId)
  }

  async function refreshDetail(id: string): Promise<void> {
    try {
      const detail = await bridge['runs.get']({ id })
      if (runId.value !== id) return
      run.value = detail.run
      summary.value = detail.summary
      status.value = detail.summary.status
      runError.value = detail.summary.error
      let merged = samples.value
      for (const s of detail.samples) merged = insertSample(merged, s)
      samples.value = merged
    } catch {
      // The status event already told the important part.
    }
  }

  function reset(): void {
    run.value = null
    summary.value = null
    status.value = null
    runError.value = null
    progress.value = null
    samples.value = []
    logs.value = []
    loadError.value = null
    lastMetricT.value = 0
    quality.value = []
    backendAsked = false
    buffer.clear()
    metricsVersion.value = buffer.version
  }

  /** Opens a run: its snapshot (run, metrics, samples), then live events. */
  async function open(id: string): Promise<void> {
    if (runId.value === id && run.value && !loadError.value) return
    const seq = ++loadSeq
    runId.value = id
    reset()
    loading.value = true
    held = []
    snapshotStep = -1
    try {
      const [detail, metrics] = await Promise.all([bridge['runs.get']({ id }), bridge['runs.metrics']({ id, sinceStep: -1 })])
      if (seq !== loadSeq) return
      run.value = detail.run
      summary.value = detail.summary
      status.value = detail.summary.status
      runError.value = detail.summary.error
      samples.value = [...detail.samples].sort((a, b) => a.step - b.step)
      buffer.append(metrics)
      quality.value = qualityPoints(metrics)
      lastMetricT.value = metrics.length ? metrics[metrics.length - 1]!.t : 0
      snapshotStep = buffer.lastStep
      metricsVersion.value = buffer.version
      progress.value = {
        step: detail.summary.step,
        steps: detail.summary.steps,
        imagesPerSec: metrics.length ? metrics[metrics.length - 1]!.imagesPerSec : null,
        etaMs: null
      }
    } catch (err) {
      if (seq !== loadSeq) return
      loadError.value = errorMessage(err, 'Could not open the run.')
    } finally {
      if (seq === loadSeq) {
        loading.value = false
        const queued = held ?? []
        // Apply held events in order, still flagged as held so duplicates are recognised.
        for (const fn of queued) fn()
        held = null
      }
    }
  }

  /** Catches up after a reconnect: only metrics after the newest one held. */
  async function refresh(): Promise<void> {
    const id = runId.value
    if (!id) return
    try {
      const [detail, metrics] = await Promise.all([
        bridge['runs.get']({ id }),
        bridge['runs.metrics']({ id, sinceStep: buffer.lastStep })
      ])
      if (runId.value !== id) return
      run.value = detail.run
      summary.value = detail.summary
      status.value = detail.summary.status
      runError.value = detail.summary.error
      samples.value = [...detail.samples].sort((a, b) => a.step - b.step)
      const fresh = metrics.filter((m) => m.step > buffer.lastStep)
      if (fresh.length) {
        buffer.append(fresh)
        quality.value = fresh.reduce(withQuality, quality.value)
        lastMetricT.value = fresh[fresh.length - 1]!.t
        metricsVersion.value = buffer.version
      }
    } catch (err) {
      app.reportError(err, 'Could not refresh the run')
    }
  }

  function close(): void {
    loadSeq++
    runId.value = null
    held = null
    reset()
  }

  function sampleUrl(sample: SampleSnapshot): string {
    return bridge.fileUrl(runFilePath(sample.runId, sample.file))
  }

  return {
    runId,
    run,
    summary,
    status,
    runError,
    loading,
    loadError,
    progress,
    samples,
    latestSample,
    logs,
    smoothing,
    buffer,
    metricsVersion,
    quality,
    isLive,
    trainedMs,
    open,
    refresh,
    close,
    sampleUrl
  }
})
