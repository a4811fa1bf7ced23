import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { SEED_MAX as MAX_SEED } from '@shared/config'
import type { CheckpointInfo, GeneratedImage, JobProgress, Results } from '@shared/contract'
import { getBridge } from '../bridge'
import { errorCode } from '../lib/errors'
import { imageSrc, runFilePath } from '../lib/images'
import { useAppStore } from './app'

export const MAX_SEEDS = 256
export type Upscale = 1 | 2 | 4
export type WalkFormat = 'gif' | 'webp' | 'png'
export const EASINGS = ['ease-in-out', 'linear', 'ease-in', 'ease-out'] as const
export type Easing = (typeof EASINGS)[number]
export interface WalkKey {
  seed?: number
  latent?: number[]
  seconds?: number
  easing?: Easing
}

/**
 * Keyframes with their own timing, as typed: `SEED[@SECONDS][~EASING]` separated by commas,
 * e.g. "3@2, 17~linear, 42@0.5". Plain seeds and ranges go through parseSeeds instead.
 */
export function parseKeyframeText(text: string, max = 64): { keys: WalkKey[]; error: string | null } {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean)
  const keys: WalkKey[] = []
  for (const part of parts) {
    const m = /^(\d+)(?:\s*@\s*(\d+(?:\.\d+)?))?(?:\s*~\s*([a-z-]+))?$/.exec(part)
    if (!m) return { keys: [], error: `“${part}” is not a keyframe (use SEED, SEED@SECONDS or SEED~EASING, e.g. 42@1.5~linear).` }
    const seed = Number(m[1])
    if (seed > MAX_SEED) return { keys: [], error: `Seeds go from 0 to ${MAX_SEED}.` }
    const seconds = m[2] !== undefined ? Number(m[2]) : undefined
    if (seconds !== undefined && (seconds <= 0 || seconds > 120)) return { keys: [], error: `“${part}”: a keyframe lasts more than 0 and at most 120 seconds.` }
    const easing = m[3] as Easing | undefined
    if (easing !== undefined && !EASINGS.includes(easing)) return { keys: [], error: `“${part}”: easing is one of ${EASINGS.join(', ')}.` }
    keys.push({ seed, ...(seconds !== undefined && { seconds }), ...(easing !== undefined && { easing }) })
  }
  if (keys.length < 2) return { keys, error: 'A walk needs at least two keyframes.' }
  if (keys.length > max) return { keys: [], error: `At most ${max} keyframes.` }
  return { keys, error: null }
}

/**
 * Seeds from what a person types: numbers and ranges separated by commas or spaces,
 * e.g. "0-15", "3, 7, 42", "100-103 7". Duplicates keep their first place.
 */
export function parseSeeds(text: string, max = MAX_SEEDS): { seeds: number[]; error: string | null } {
  const parts = text.split(/[\s,]+/).filter(Boolean)
  if (parts.length === 0) return { seeds: [], error: 'Enter at least one seed, e.g. 0-15 or 3, 7, 42.' }
  const out: number[] = []
  const seen = new Set<number>()
  const add = (n: number): void => {
    if (!seen.has(n)) {
      seen.add(n)
      out.push(n)
    }
  }
  for (const part of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) return { seeds: [], error: `“${part}” is not a seed or a range (use whole numbers like 42 or 0-15).` }
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (a > MAX_SEED || b > MAX_SEED) return { seeds: [], error: `Seeds go from 0 to ${MAX_SEED}.` }
    if (b < a) return { seeds: [], error: `The range ${part} runs backwards.` }
    if (b - a + 1 + out.length > max * 4) return { seeds: [], error: `At most ${max} seeds at a time.` }
    for (let n = a; n <= b; n++) add(n)
  }
  if (out.length > max) return { seeds: [], error: `At most ${max} seeds at a time (that is ${out.length}).` }
  return { seeds: out, error: null }
}

/** `count` random seeds (distinct), for "Random seeds". */
export function randomSeeds(count: number, rand: () => number = Math.random): number[] {
  const out = new Set<number>()
  while (out.size < count) out.add(Math.floor(rand() * (MAX_SEED + 1)))
  return [...out]
}

/** Seeds as compact text: consecutive runs become ranges ("0-3, 9"). */
export function formatSeeds(seeds: readonly number[]): string {
  const parts: string[] = []
  let i = 0
  while (i < seeds.length) {
    let j = i
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j]! + 1) j++
    parts.push(j - i >= 2 ? `${seeds[i]}-${seeds[j]}` : seeds.slice(i, j + 1).join(', '))
    i = j + 1
  }
  return parts.join(', ')
}

let walkCounter = 0

/**
 * The Generate view's state: which run and checkpoint, the seeds and truncation ψ, the previewed
 * images, the run's starred seeds (stored in the run folder), saving and exporting, the latent
 * walk builder with its progress (from `jobs.progress` events), and the model export.
 */
export const useGenerateStore = defineStore('generate', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const checkpoints = ref<CheckpointInfo[]>([])
  /** null: the newest checkpoint. */
  const checkpoint = ref<string | null>(null)
  const checkpointsLoading = ref(false)

  const seedsText = ref('0-15')
  const randomCount = ref(16)
  const truncation = ref(1)
  const upscale = ref<Upscale>(1)
  const sheet = ref(true)

  const images = shallowRef<GeneratedImage[]>([])
  /** What the shown images were made from (the step answers which checkpoint "newest" was). */
  const shown = ref<{ runId: string; checkpoint: string; step: number; truncation: number } | null>(null)
  const generating = ref(false)
  const saving = ref(false)
  const lastSaved = ref<{ dir: string; count: number; kind: 'images' | 'favorites' } | null>(null)

  const favorites = ref<number[]>([])

  const walkSeedsText = ref('')
  const walkSeconds = ref(4)
  const walkFps = ref(24)
  const walkFormat = ref<WalkFormat>('gif')
  const walkEasing = ref<Easing>('ease-in-out')
  /** Keyframes taken from a collection (seeds and latents), used instead of the typed ones until cleared; `label` says where they came from otherwise. */
  const walkCollection = ref<{ name: string; keys: WalkKey[]; label?: string } | null>(null)
  const walking = ref(false)
  const walkJobId = ref<string | null>(null)
  const walkProgress = ref<JobProgress | null>(null)
  const walkResult = ref<{ runId: string; file: string; frames: number; format: WalkFormat } | null>(null)
  /** The last walk was cancelled (shown instead of a result). */
  const walkCancelled = ref(false)
  const cancellingWalk = ref(false)

  const exporting = ref(false)
  const exported = ref<(Results['export.model'] & { runId: string }) | null>(null)

  const parsedSeeds = computed(() => parseSeeds(seedsText.value))
  const parsedWalkSeeds = computed(() => {
    if (walkCollection.value) return { seeds: [], error: walkCollection.value.keys.length < 2 ? 'A walk needs at least two keyframes.' : null }
    if (/[@~]/.test(walkSeedsText.value)) {
      const k = parseKeyframeText(walkSeedsText.value)
      return { seeds: k.keys.map((key) => key.seed!), error: k.error }
    }
    const r = parseSeeds(walkSeedsText.value, 32)
    if (!r.error && r.seeds.length < 2) return { seeds: r.seeds, error: 'A walk needs at least two keyframe seeds.' }
    return r
  })
  /** Keyframes with timing when the walk has any (typed with @ or ~, or from a collection), else null. */
  const walkKeys = computed<WalkKey[] | null>(() => {
    if (walkCollection.value) return walkCollection.value.keys
    if (!/[@~]/.test(walkSeedsText.value)) return null
    const k = parseKeyframeText(walkSeedsText.value)
    return k.error ? null : k.keys
  })
  /** Seconds of the whole loop: the keyframes' own durations, the others sharing the rest. */
  const walkTotalSeconds = computed(() => {
    const keys = walkKeys.value
    if (!keys) return walkSeconds.value
    const given = keys.reduce((a, k) => a + (k.seconds ?? 0), 0)
    const open = keys.filter((k) => k.seconds === undefined).length
    // As the main side times it: those without a duration last as long as the others on average.
    return open === keys.length ? walkSeconds.value : given + (open * given) / (keys.length - open)
  })
  const walkFrames = computed(() => Math.max(2, Math.round(walkTotalSeconds.value * walkFps.value)))
  const favoriteSet = computed(() => new Set(favorites.value))

  // Subscribe before any request, so a fast walk's first progress events are not missed.
  bridge.on('jobs.progress', (p) => {
    if (p.kind === 'walk' && p.jobId === walkJobId.value) walkProgress.value = p
  })

  async function selectRun(id: string | null): Promise<void> {
    if (id === runId.value) return
    runId.value = id
    checkpoint.value = null
    checkpoints.value = []
    favorites.value = []
    images.value = []
    shown.value = null
    exported.value = null
    walkResult.value = null
    walkCancelled.value = false
    lastSaved.value = null
    if (!id) return
    checkpointsLoading.value = true
    try {
      const [cps, favs] = await Promise.all([bridge['generate.checkpoints']({ id }), bridge['generate.favorites']({ id })])
      if (runId.value !== id) return
      checkpoints.value = cps
      favorites.value = favs.seeds
    } catch (err) {
      app.reportError(err, 'Could not open the run')
    } finally {
      if (runId.value === id) checkpointsLoading.value = false
    }
  }

  function useRandomSeeds(): void {
    const n = Math.min(MAX_SEEDS, Math.max(1, Math.round(randomCount.value) || 16))
    seedsText.value = randomSeeds(n).join(', ')
  }

  /** Previews the seeds (data URLs at training resolution; nothing is written). */
  async function generate(): Promise<boolean> {
    const id = runId.value
    const { seeds, error } = parsedSeeds.value
    if (!id || error) return false
    generating.value = true
    try {
      const psi = truncation.value
      const r = await bridge['generate.images']({ id, seeds, truncation: psi, ...(checkpoint.value ? { checkpoint: checkpoint.value } : {}) })
      if (runId.value !== id) return false
      images.value = r.images
      shown.value = { runId: id, checkpoint: r.checkpoint, step: r.step, truncation: psi }
      return true
    } catch (err) {
      app.reportError(err, 'Could not generate images')
      return false
    } finally {
      generating.value = false
    }
  }

  async function saveFavorites(next: number[]): Promise<void> {
    const id = runId.value
    if (!id) return
    const before = favorites.value
    favorites.value = next
    try {
      const r = await bridge['generate.favorites']({ id, seeds: next })
      if (runId.value === id) favorites.value = r.seeds
    } catch (err) {
      if (runId.value === id) favorites.value = before
      app.reportError(err, 'Could not save the favourites')
    }
  }

  function toggleFavorite(seed: number): Promise<void> {
    const next = favoriteSet.value.has(seed) ? favorites.value.filter((s) => s !== seed) : [...favorites.value, seed].sort((a, b) => a - b)
    return saveFavorites(next)
  }

  async function writeImages(seeds: number[], collection: 'images' | 'favorites'): Promise<boolean> {
    const id = runId.value
    if (!id || seeds.length === 0) return false
    saving.value = true
    try {
      const r = await bridge['generate.images']({
        id,
        seeds,
        truncation: truncation.value,
        upscale: upscale.value,
        sheet: sheet.value,
        save: true,
        collection,
        ...(checkpoint.value ? { checkpoint: checkpoint.value } : {})
      })
      lastSaved.value = { dir: r.dir ?? '', count: r.images.length, kind: collection }
      return true
    } catch (err) {
      app.reportError(err, collection === 'favorites' ? 'Could not export the favourites' : 'Could not save the images')
      return false
    } finally {
      saving.value = false
    }
  }

  /** Writes the previewed seeds as PNGs (with metadata) into the run's exports folder. */
  const saveImages = (): Promise<boolean> => writeImages(parsedSeeds.value.seeds, 'images')
  /** Writes every starred seed, together, into the run's exports/favorites folder. */
  const exportFavorites = (): Promise<boolean> => writeImages(favorites.value, 'favorites')

  function addToWalk(seed: number): void {
    const current = parseSeeds(walkSeedsText.value, 32)
    const seeds = current.error ? [] : current.seeds
    if (!seeds.includes(seed) && seeds.length < 32) walkSeedsText.value = [...seeds, seed].join(', ')
  }

  /** Adds a latent (an image edited with directions, a found image) as a keyframe after the current ones (typed seeds become keyframes too). */
  function addLatentToWalk(latent: number[], label = 'found image'): void {
    const typed = (): WalkKey[] => {
      const text = walkSeedsText.value
      if (!text.trim()) return []
      if (/[@~]/.test(text)) return parseKeyframeText(text).keys
      const r = parseSeeds(text, 32)
      return r.error ? [] : r.seeds.map((seed) => ({ seed }))
    }
    const current = walkCollection.value?.keys ?? typed()
    if (current.length >= 64) return
    const keys = [...current, { latent }]
    const latents = keys.filter((k) => k.latent).length
    const seeds = keys.filter((k) => k.seed !== undefined).map((k) => k.seed)
    walkCollection.value = {
      name: label,
      keys,
      label: `Keyframes: ${seeds.length ? `seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')} and ` : ''}${latents} chosen image${latents > 1 ? 's' : ''}${keys.length < 2 ? ' (add one more)' : ''}.`
    }
  }

  async function makeWalk(): Promise<boolean> {
    const id = runId.value
    const { seeds, error } = parsedWalkSeeds.value
    if (!id || error || walking.value) return false
    const jobId = `walk-${Date.now().toString(36)}-${(walkCounter++).toString(36)}`
    walkJobId.value = jobId
    walkProgress.value = { jobId, kind: 'walk', done: 0, total: walkFrames.value, label: 'Starting' }
    walking.value = true
    walkResult.value = null
    walkCancelled.value = false
    try {
      const format = walkFormat.value
      const keys = walkKeys.value
      const timed = keys !== null && keys.some((k) => k.seconds !== undefined)
      const r = await bridge['generate.walk']({
        id,
        ...(keys ? { keyframes: keys } : { seeds }),
        easing: walkEasing.value,
        ...(timed ? {} : { seconds: walkTotalSeconds.value }),
        fps: walkFps.value,
        format,
        truncation: truncation.value,
        jobId,
        ...(checkpoint.value ? { checkpoint: checkpoint.value } : {})
      })
      walkResult.value = { runId: id, file: r.file, frames: r.frames, format }
      return true
    } catch (err) {
      if (errorCode(err) === 'cancelled') {
        walkCancelled.value = true
        walkProgress.value = null
      } else app.reportError(err, 'Could not make the walk')
      return false
    } finally {
      walking.value = false
      cancellingWalk.value = false
      walkJobId.value = null
    }
  }

  /** Asks the studio to stop the walk being made; makeWalk then ends with nothing written. */
  async function cancelWalk(): Promise<void> {
    const jobId = walkJobId.value
    if (!jobId || cancellingWalk.value) return
    cancellingWalk.value = true
    try {
      await bridge['jobs.cancel']({ jobId })
    } catch (err) {
      cancellingWalk.value = false
      app.reportError(err, 'Could not cancel the walk')
    }
  }

  async function exportModel(): Promise<boolean> {
    const id = runId.value
    if (!id) return false
    exporting.value = true
    try {
      const r = await bridge['export.model']({ id, ...(checkpoint.value ? { checkpoint: checkpoint.value } : {}) })
      exported.value = { ...r, runId: id }
      return true
    } catch (err) {
      app.reportError(err, 'Could not export the model')
      return false
    } finally {
      exporting.value = false
    }
  }

  /** An image's src: data URLs pass through, saved files are served from the studio home. */
  function srcFor(url: string, id = runId.value): string {
    return /^data:/.test(url) || !id ? url : imageSrc(runFilePath(id, url), bridge.fileUrl)
  }

  const walkUrl = computed(() => (walkResult.value && walkResult.value.format !== 'png' ? srcFor(walkResult.value.file, walkResult.value.runId) : null))
  const exportedPageUrl = computed(() => (exported.value ? srcFor(exported.value.page, exported.value.runId) : null))

  return {
    runId,
    checkpoints,
    checkpoint,
    checkpointsLoading,
    seedsText,
    randomCount,
    truncation,
    upscale,
    sheet,
    images,
    shown,
    generating,
    saving,
    lastSaved,
    favorites,
    favoriteSet,
    walkSeedsText,
    walkSeconds,
    walkFps,
    walkFormat,
    walkEasing,
    walkCollection,
    walkKeys,
    walkTotalSeconds,
    walking,
    walkProgress,
    walkResult,
    walkCancelled,
    cancellingWalk,
    walkFrames,
    walkUrl,
    exporting,
    exported,
    exportedPageUrl,
    parsedSeeds,
    parsedWalkSeeds,
    selectRun,
    useRandomSeeds,
    generate,
    toggleFavorite,
    saveImages,
    exportFavorites,
    addToWalk,
    addLatentToWalk,
    makeWalk,
    cancelWalk,
    exportModel,
    srcFor
  }
})
