import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { nextTick } from 'vue'
import { PRESET_STEPS } from '@shared/recipes'
import { setBridge } from '../../../src/renderer/src/bridge'
import { ESTIMATE_DEBOUNCE_MS, useNewRunStore } from '../../../src/renderer/src/stores/newRun'
import { createMockBridge, dataset, runSummary, type MockBridge } from '../helpers/mockBridge'

let mock: MockBridge

beforeEach(() => {
  vi.useFakeTimers()
  mock = createMockBridge({
    'runs.estimate': () => ({ msPer1000Steps: 120_000, backend: 'wasm' }),
    'runs.start': () => runSummary({ id: 'started' }),
    'backends.list': () => [{ name: 'wasm', available: true, reason: null, imagesPerSec: 38 }]
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => vi.useRealTimers())

describe('new run store', () => {
  it('needs a dataset before it is valid', () => {
    const form = useNewRunStore()
    expect(form.valid).toBe(false)
    expect(form.errors.source).toMatch(/dataset/i)
    form.chooseDataset(dataset({ resolution: 64, crop: 'pad', background: '#000000' }))
    expect(form.valid).toBe(true)
    expect(form.draft.source).toBe('/home/artist/sketches')
    expect(form.draft.preprocess).toEqual({ resolution: 64, crop: 'pad', background: '#000000' })
  })

  it('reports plain-language errors per field', async () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset())
    form.draft.steps = 0
    form.draft.batchSize = 2.5
    form.draft.optimizer.gLr = Number.NaN
    await nextTick()
    expect(form.valid).toBe(false)
    expect(form.errors.steps).toBe('Must be at least 1.')
    expect(form.errors.batchSize).toBe('Must be a whole number.')
    expect(form.errors['optimizer.gLr']).toBe('Enter a number.')
  })

  it('start does nothing while invalid and sends the parsed config when valid', async () => {
    const form = useNewRunStore()
    expect(await form.start()).toBeNull()
    expect(form.attempted).toBe(true)
    expect(mock.calls['runs.start']).not.toHaveBeenCalled()

    form.chooseDataset(dataset())
    form.draft.steps = 25
    const summary = await form.start()
    expect(summary?.id).toBe('started')
    const sent = mock.calls['runs.start'].mock.calls[0]![0].config
    expect(sent).toMatchObject({ source: '/home/artist/sketches', steps: 25, preprocess: { resolution: 32 } })
  })

  it('presets change the training settings but keep the dataset and backend', () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset({ resolution: 128 }))
    form.draft.backend = 'wasm'
    form.applyPreset('Quality')
    expect(form.activePreset).toBe('Quality')
    expect(form.draft.steps).toBe(PRESET_STEPS.Quality)
    expect(form.draft.model.arch).toBe('lite')
    expect(form.draft.backend).toBe('wasm')
    expect(form.draft.preprocess.resolution).toBe(128)
    form.draft.steps = 12345
    expect(form.activePreset).toBeNull()
  })

  it('another family picked on a preset gets that family’s recipe; edited settings stay', async () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset({ resolution: 64, count: 800 }))
    form.applyPreset('Balanced')
    expect(form.draft.model).toMatchObject({ arch: 'dcgan', gUpsample: 'nearest', dNorm: 'batch' })
    form.draft.model.arch = 'lite'
    await nextTick()
    expect(form.draft.model).toMatchObject({ arch: 'lite', gChannels: 16, dChannels: 32, dNorm: 'none', gNorm: 'none' })
    expect(form.draft.loss.type).toBe('hinge')
    expect(form.draft.steps).toBe(PRESET_STEPS.Balanced)
    expect(form.draft.source).toBe('/home/artist/sketches')
    // Edited, then switched: the edits are kept as they are.
    form.draft.model.gChannels = 40
    await nextTick()
    form.draft.model.arch = 'dcgan'
    await nextTick()
    expect(form.draft.model).toMatchObject({ arch: 'dcgan', gChannels: 40 })
    expect(form.draft.loss.type).toBe('hinge')
  })

  it('follows the dataset: the recipe for its size, more augmentation for a small folder; edited settings stay', async () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset({ resolution: 32, count: 800 }))
    expect(form.activePreset).toBe('Quick sketch')
    expect(form.draft.model).toMatchObject({ arch: 'dcgan', dNorm: 'batch', gChannels: 32 })
    expect(form.draft.augment.cutout).toBe(false)
    form.chooseDataset(dataset({ resolution: 64, count: 120 }))
    expect(form.activePreset).toBe('Quick sketch')
    expect(form.draft.model).toMatchObject({ arch: 'dcgan', gUpsample: 'nearest' })
    expect(form.draft.augment.cutout).toBe(true)
    form.chooseDataset(dataset({ resolution: 128, count: 120 }))
    expect(form.draft.model.arch).toBe('lite')
    await nextTick()
    // A size picked in the form while on a preset: that preset's recipe for the size.
    form.draft.preprocess.resolution = 32
    await nextTick()
    expect(form.draft.model.arch).toBe('dcgan')
    form.draft.model.gChannels = 48
    form.chooseDataset(dataset({ resolution: 64, count: 120 }))
    expect(form.activePreset).toBeNull()
    expect(form.draft.model).toMatchObject({ arch: 'dcgan', gChannels: 48 })
  })

  it('asks for an estimate once the draft stops changing', async () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset())
    await nextTick()
    form.draft.steps = 100
    await nextTick()
    form.draft.steps = 200
    await nextTick()
    expect(mock.calls['runs.estimate']).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS + 10)
    expect(mock.calls['runs.estimate']).toHaveBeenCalledTimes(1)
    expect(mock.calls['runs.estimate'].mock.calls[0]![0].config.steps).toBe(200)
    expect(form.estimate).toEqual({ msPer1000Steps: 120_000, backend: 'wasm' })
  })

  it('does not ask for an estimate for an invalid draft', async () => {
    const form = useNewRunStore()
    form.chooseDataset(dataset())
    form.draft.steps = -1
    await nextTick()
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS + 10)
    expect(mock.calls['runs.estimate']).not.toHaveBeenCalled()
    expect(form.estimate).toBeNull()
  })
})
