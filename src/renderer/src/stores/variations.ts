import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { getBridge } from '../bridge'
import { useAppStore } from './app'

export interface VariationImage {
  /** Latent before ψ. */
  latent: number[]
  image: string
}

export interface VariationCentre extends VariationImage {
  /** How a person would name it: "seed 42", "variation of seed 42". */
  label: string
}

let requestSeq = 0

/**
 * Variations of one image: its neighbours in latent space at a chosen strength; clicking one makes
 * it the new centre, and the earlier centres are kept so the artist can step back.
 */
export const useVariationsStore = defineStore('variations', () => {
  const bridge = getBridge()
  const app = useAppStore()

  const runId = ref<string | null>(null)
  const checkpoint = ref<string | null>(null)
  const truncation = ref(1)
  const strength = ref(0.3)
  const count = ref(8)
  const variationSeed = ref(0)
  const centre = shallowRef<VariationCentre | null>(null)
  const neighbours = shallowRef<VariationImage[]>([])
  const history = shallowRef<VariationCentre[]>([])
  const busy = ref(false)
  /** What the first centre was, for labels: "seed 42", "found: moth.png". */
  const origin = ref<string | null>(null)
  /** The request rendering now; cancelled (jobs.cancel) when a newer one replaces it or the dialog closes. */
  let running: string | null = null

  function cancelRunning(): void {
    const jobId = running
    running = null
    if (jobId) bridge['jobs.cancel']({ jobId }).catch(() => undefined)
  }

  async function load(center: { seed: number } | { latent: number[] }, label: string): Promise<boolean> {
    const id = runId.value
    if (!id) return false
    const seq = ++requestSeq
    cancelRunning()
    const jobId = `variations-${Date.now().toString(36)}-${seq}`
    running = jobId
    busy.value = true
    try {
      const r = await bridge['explore.variations']({
        id,
        jobId,
        center,
        strength: strength.value,
        count: count.value,
        variationSeed: variationSeed.value,
        truncation: truncation.value,
        ...(checkpoint.value ? { checkpoint: checkpoint.value } : {})
      })
      if (seq !== requestSeq) return false
      centre.value = { ...r.center, label }
      neighbours.value = r.neighbours
      return true
    } catch (err) {
      if (seq === requestSeq && (err as { code?: string }).code !== 'cancelled') app.reportError(err, 'Could not make the variations')
      return false
    } finally {
      if (running === jobId) running = null
      if (seq === requestSeq) busy.value = false
    }
  }

  /** Starts from a seed (a gallery image), or a latent with a name (e.g. an image edited with directions), with a fresh history. */
  function open(id: string, from: number | { latent: number[]; label: string }, opts: { truncation: number; checkpoint: string | null }): Promise<boolean> {
    runId.value = id
    truncation.value = opts.truncation
    checkpoint.value = opts.checkpoint
    history.value = []
    origin.value = typeof from === 'number' ? `seed ${from}` : from.label
    centre.value = null
    neighbours.value = []
    return typeof from === 'number' ? load({ seed: from }, `seed ${from}`) : load({ latent: from.latent }, from.label)
  }

  /** New neighbours around the same centre (after the strength changed, or to shuffle). */
  function refresh(): Promise<boolean> {
    return centre.value ? load({ latent: centre.value.latent }, centre.value.label) : Promise.resolve(false)
  }

  function shuffle(): Promise<boolean> {
    variationSeed.value = (variationSeed.value + 1) % 2 ** 31
    return refresh()
  }

  /** Makes neighbour i the centre; the old centre goes on the history. */
  async function recentre(i: number): Promise<boolean> {
    const picked = neighbours.value[i]
    const current = centre.value
    if (!picked || !current || busy.value) return false
    const label = `variation of ${origin.value ?? 'a latent'} (${history.value.length + 1} step${history.value.length ? 's' : ''} away)`
    const ok = await load({ latent: picked.latent }, label)
    if (ok) history.value = [...history.value, current]
    return ok
  }

  /** Back to the previous centre. */
  async function back(): Promise<boolean> {
    const previous = history.value[history.value.length - 1]
    if (!previous || busy.value) return false
    const ok = await load({ latent: previous.latent }, previous.label)
    if (ok) history.value = history.value.slice(0, -1)
    return ok
  }

  function close(): void {
    requestSeq++
    cancelRunning()
    runId.value = null
    centre.value = null
    neighbours.value = []
    history.value = []
    busy.value = false
  }

  return { runId, strength, count, variationSeed, truncation, centre, neighbours, history, busy, open, refresh, shuffle, recentre, back, close }
})
