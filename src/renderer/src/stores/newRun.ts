import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { BackendStatus, Results } from '@shared/contract'
import { PRESET_NAMES, RunConfigSchema, type ModelArch, type PresetName, type Resolution, type RunConfig } from '@shared/config'
import { presetSettings } from '@shared/recipes'
import type { DatasetSummary } from '@shared/datasets'
import type { RunJson, RunSummary } from '@shared/runs'
import { getBridge } from '../bridge'
import { errorMessage } from '../lib/errors'
import { fieldErrors } from '../lib/validation'
import { useAppStore } from './app'
import { useRunsStore } from './runs'

export const ESTIMATE_DEBOUNCE_MS = 400

/** A preset's settings for a size and folder (src/shared/recipes.ts), with no folder chosen yet; `arch` for a family other than the size's. */
export function defaultConfig(preset: PresetName, resolution: Resolution = 32, imageCount: number | null = null, arch?: ModelArch): RunConfig {
  const base = RunConfigSchema.parse({ ...presetSettings(preset, resolution, imageCount, arch), preprocess: { resolution }, source: '-' })
  return { ...base, source: '' }
}

/** The fields a preset leaves alone: what to train on, how it's named, where it runs. */
function keepAcrossPresets(c: RunConfig): Partial<RunConfig> {
  return { name: c.name, source: c.source, preprocess: { ...c.preprocess }, backend: c.backend, seed: c.seed }
}

function comparable(c: RunConfig): string {
  const { name: _n, source: _s, preprocess: _p, backend: _b, seed: _seed, ...rest } = c
  void [_n, _s, _p, _b, _seed]
  return JSON.stringify(rest)
}

/** The preset whose settings `c` has, for a size and folder (and a family other than the size's), or null. */
function presetOf(c: RunConfig, resolution: Resolution, imageCount: number | null, arch?: ModelArch): PresetName | null {
  const sig = comparable(c)
  return PRESET_NAMES.find((name) => comparable(defaultConfig(name, resolution, imageCount, arch)) === sig) ?? null
}

/**
 * The New run form: the draft settings, validated on every change with the shared schema; the
 * backends this machine has; and an estimate of time per 1,000 steps for the draft.
 */
export const useNewRunStore = defineStore('newRun', () => {
  const bridge = getBridge()
  const app = useAppStore()
  const runs = useRunsStore()

  const draft = ref<RunConfig>(defaultConfig('Quick sketch'))
  const datasetId = ref<string | null>(null)
  /** Images in the chosen dataset: the recipe adds augmentation for small folders. */
  const imageCount = ref<number | null>(null)
  const backends = ref<BackendStatus[]>([])
  const backendsLoaded = ref(false)
  const backendsError = ref<string | null>(null)
  const estimate = ref<Results['runs.estimate'] | null>(null)
  const estimating = ref(false)
  const estimateError = ref<string | null>(null)
  /** Set when "Start training" was pressed: from then on every field shows its error. */
  const attempted = ref(false)
  /** Fine-tune: the run whose weights the new run starts from (null: from scratch). */
  const baseRun = ref<RunJson | null>(null)
  const baseLoading = ref(false)

  const parsed = computed(() => RunConfigSchema.safeParse(draft.value))
  const errors = computed<Record<string, string>>(() => {
    const e = parsed.value.success ? {} : fieldErrors(parsed.value.error)
    if (!draft.value.source) e.source = 'Choose a dataset to learn from. Import a folder on the Datasets page first.'
    return e
  })
  /** Why the draft cannot start from the chosen run (family or resolution differ), or null. */
  const fineTuneMismatch = computed<string | null>(() => {
    const base = baseRun.value
    if (!base) return null
    const was = base.config
    const differs: string[] = []
    if (was.model.arch !== draft.value.model.arch) differs.push(`its family is ${was.model.arch}, this run's is ${draft.value.model.arch}`)
    if (was.preprocess.resolution !== draft.value.preprocess.resolution)
      differs.push(`it makes ${was.preprocess.resolution} px pictures, this run ${draft.value.preprocess.resolution} px`)
    return differs.length ? `Cannot start from “${base.name}”: ${differs.join(' and ')}. A fine-tune keeps the family and resolution of the run it starts from.` : null
  })
  const valid = computed(() => parsed.value.success && draft.value.source.length > 0 && fineTuneMismatch.value === null)
  const activePreset = computed<PresetName | null>(() => presetOf(draft.value, draft.value.preprocess.resolution, imageCount.value))

  function applyPreset(name: PresetName): void {
    const keep = keepAcrossPresets(draft.value)
    draft.value = { ...defaultConfig(name, draft.value.preprocess.resolution, imageCount.value), ...keep }
  }

  // A new size while the settings are still a preset's: that preset's recipe for the new size.
  watch(
    () => draft.value.preprocess.resolution,
    (now, before) => {
      const preset = presetOf(draft.value, before, imageCount.value)
      if (preset && now !== before) applyPreset(preset)
    }
  )

  // Another family picked while the settings are a preset's (for the family before): that preset's
  // recipe for the new family, whose widths, norms and losses differ. Edited settings are kept.
  watch(
    () => draft.value.model.arch,
    (now, before) => {
      if (now === before) return
      const resolution = draft.value.preprocess.resolution
      const preset = presetOf({ ...draft.value, model: { ...draft.value.model, arch: before } }, resolution, imageCount.value, before)
      if (preset) draft.value = { ...defaultConfig(preset, resolution, imageCount.value, now), ...keepAcrossPresets(draft.value) }
    }
  )

  function chooseDataset(ds: DatasetSummary | null): void {
    // Settings still on a preset follow the dataset's size and folder; edited ones are kept.
    const preset = activePreset.value
    datasetId.value = ds?.id ?? null
    if (!ds) {
      draft.value.source = ''
      return
    }
    imageCount.value = ds.count
    draft.value.source = ds.source
    draft.value.preprocess = { resolution: ds.resolution, crop: ds.crop, background: ds.background }
    if (preset) applyPreset(preset)
  }

  /**
   * Start from a finished run's weights, or from scratch (null). Choosing a run takes its model
   * settings and resolution (so every weight fits) and turns on shift and colour augmentation,
   * which few images need most.
   */
  async function chooseBase(id: string | null): Promise<void> {
    if (!id) {
      baseRun.value = null
      return
    }
    baseLoading.value = true
    try {
      const detail = await bridge['runs.get']({ id })
      baseRun.value = detail.run
      draft.value.model = { ...detail.run.config.model }
      draft.value.preprocess = { ...draft.value.preprocess, resolution: detail.run.config.preprocess.resolution }
      draft.value.augment = { ...draft.value.augment, xflip: true, translation: true, color: true }
    } catch (err) {
      baseRun.value = null
      app.reportError(err, 'Could not read that run')
    } finally {
      baseLoading.value = false
    }
  }

  function reset(): void {
    const keep = keepAcrossPresets(draft.value)
    const preprocess = keep.preprocess ?? draft.value.preprocess
    draft.value = { ...defaultConfig('Quick sketch', preprocess.resolution, imageCount.value), source: keep.source ?? '', preprocess }
    attempted.value = false
  }

  async function loadBackends(): Promise<void> {
    try {
      backends.value = await bridge['backends.list']({})
      backendsError.value = null
    } catch (err) {
      backendsError.value = errorMessage(err, 'Could not check which compute backends are available.')
    } finally {
      backendsLoaded.value = true
    }
  }

  let estimateTimer: ReturnType<typeof setTimeout> | null = null
  let estimateSeq = 0

  async function runEstimate(): Promise<void> {
    const seq = ++estimateSeq
    if (!valid.value || !parsed.value.success) {
      estimate.value = null
      estimating.value = false
      return
    }
    estimating.value = true
    try {
      const result = await bridge['runs.estimate']({ config: parsed.value.data })
      if (seq !== estimateSeq) return
      estimate.value = result
      estimateError.value = null
    } catch (err) {
      if (seq !== estimateSeq) return
      estimate.value = null
      estimateError.value = errorMessage(err, 'No estimate available.')
    } finally {
      if (seq === estimateSeq) estimating.value = false
    }
  }

  /** Asks for a new estimate once the draft has stopped changing for a moment. */
  function scheduleEstimate(): void {
    if (estimateTimer) clearTimeout(estimateTimer)
    estimateTimer = setTimeout(() => {
      estimateTimer = null
      void runEstimate()
    }, ESTIMATE_DEBOUNCE_MS)
  }

  watch(draft, scheduleEstimate, { deep: true })

  /** Validates and starts the run. Resolves to its summary, or null (errors are shown). */
  async function start(): Promise<RunSummary | null> {
    attempted.value = true
    if (!valid.value || !parsed.value.success) return null
    const summary = await runs.start(parsed.value.data, baseRun.value ? { id: baseRun.value.id } : undefined)
    if (summary) {
      attempted.value = false
      app.notify(`Training “${summary.name}” started.`, 'success')
    }
    return summary
  }

  return {
    draft,
    datasetId,
    backends,
    backendsLoaded,
    backendsError,
    estimate,
    estimating,
    estimateError,
    attempted,
    baseRun,
    baseLoading,
    fineTuneMismatch,
    chooseBase,
    errors,
    valid,
    activePreset,
    applyPreset,
    chooseDataset,
    reset,
    loadBackends,
    scheduleEstimate,
    runEstimate,
    start
  }
})
