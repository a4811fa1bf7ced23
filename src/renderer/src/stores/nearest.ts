import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { NearestImagesResult, RequestParams } from '@shared/contract'
import { getBridge } from '../bridge'
import { errorMessage } from '../lib/errors'

export type NearestTarget = RequestParams<'quality.nearest'>['image']

/**
 * "Nearest training images" for one generated image (a sample-grid tile in the gallery, or an
 * image in the Generate view): which one is asked about, and the answer.
 */
export const useNearestStore = defineStore('nearest', () => {
  const bridge = getBridge()
  const open = ref(false)
  /** What the image is called in the dialog, e.g. "Seed 42". */
  const label = ref('')
  const loading = ref(false)
  const error = ref<string | null>(null)
  const result = shallowRef<NearestImagesResult | null>(null)
  let seq = 0

  async function show(runId: string, image: NearestTarget, name: string): Promise<void> {
    const mine = ++seq
    open.value = true
    label.value = name
    loading.value = true
    error.value = null
    result.value = null
    try {
      const r = await bridge['quality.nearest']({ id: runId, image, count: 3 })
      if (mine === seq) result.value = r
    } catch (err) {
      if (mine === seq) error.value = errorMessage(err, 'Could not find the nearest training images.')
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function close(): void {
    seq++
    open.value = false
    result.value = null
    error.value = null
    loading.value = false
  }

  return { open, label, loading, error, result, show, close }
})
