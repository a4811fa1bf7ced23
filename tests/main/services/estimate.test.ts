import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import type { BackendStatus } from '@shared/contract'
import { estimateMsPer1000Steps, pickBackend } from '../../../src/main/services/estimate'
import { fakeRun } from './fakes'

const backends: BackendStatus[] = [
  { name: 'tensorflow', available: false, reason: 'tensorflow: not installed', imagesPerSec: null },
  { name: 'webgpu', available: true, reason: null, imagesPerSec: 9 },
  { name: 'wasm', available: true, reason: null, imagesPerSec: 38 },
  { name: 'cpu', available: true, reason: null, imagesPerSec: 0.3 }
]
const config = (over: object = {}) => RunConfigSchema.parse({ source: '/x', batchSize: 32, ...over })

describe('estimate', () => {
  it('auto picks the fastest measured backend, never cpu; explicit ones only when available', () => {
    expect(pickBackend('auto', backends)).toBe('wasm')
    expect(pickBackend('auto', backends.map((b) => ({ ...b, imagesPerSec: null })))).toBeNull()
    expect(pickBackend('auto', [backends[3]!])).toBeNull()
    expect(pickBackend('webgpu', backends)).toBe('webgpu')
    expect(pickBackend('tensorflow', backends)).toBeNull()
  })

  it('scales the calibration speed by shape, and prefers past runs of the same shape', () => {
    const base = estimateMsPer1000Steps(config(), backends, [])
    expect(base.backend).toBe('wasm')
    // 32 images per step at 38 img/s through the calibration pass; a step runs D on real and
    // generated images, so it costs a little more than that pass: ~1 s a step.
    expect(base.msPer1000Steps).toBeGreaterThan(850_000)
    expect(base.msPer1000Steps).toBeLessThan(2_000_000)
    // Twice the side: four times the pixels, and one more stage.
    const bigger = estimateMsPer1000Steps(config({ preprocess: { resolution: 64 } }), backends, [])
    expect(bigger.msPer1000Steps! / base.msPer1000Steps!).toBeGreaterThan(3.5)
    expect(bigger.msPer1000Steps! / base.msPer1000Steps!).toBeLessThan(6)
    // Narrower networks are cheaper; another family is priced by its own cost model.
    const narrow = estimateMsPer1000Steps(config({ model: { gChannels: 32, dChannels: 32, latentDim: 64 } }), backends, [])
    expect(narrow.msPer1000Steps!).toBeLessThan(base.msPer1000Steps! / 2.5)
    const lite = estimateMsPer1000Steps(config({ model: { arch: 'lite', gChannels: 32, dChannels: 32, latentDim: 64 } }), backends, [])
    expect(lite.msPer1000Steps!).toBeGreaterThan(narrow.msPer1000Steps! * 1.5)
    // R1 adds its double backward, spread over its interval.
    const r1 = estimateMsPer1000Steps(config({ loss: { r1Gamma: 1, r1Every: 1 } }), backends, [])
    expect(r1.msPer1000Steps!).toBeGreaterThan(base.msPer1000Steps! * 1.3)

    const past = fakeRun({ config: config(), backend: { requested: 'auto', used: 'wasm', passedOver: [] }, step: 100, trainingMs: 50_000 })
    expect(estimateMsPer1000Steps(config(), backends, [past])).toEqual({ msPer1000Steps: 500_000, backend: 'wasm' })
    expect(estimateMsPer1000Steps(config({ batchSize: 64 }), backends, [past]).msPer1000Steps).not.toBe(500_000)
    expect(estimateMsPer1000Steps(config({ model: { arch: 'lite' } }), backends, [past]).msPer1000Steps).not.toBe(500_000)
  })

  it('says nothing when the backend is unavailable or unmeasured', () => {
    expect(estimateMsPer1000Steps(config({ backend: 'tensorflow' }), backends, [])).toEqual({ msPer1000Steps: null, backend: null })
    const unmeasured = backends.map((b) => ({ ...b, imagesPerSec: null }))
    expect(estimateMsPer1000Steps(config({ backend: 'wasm' }), unmeasured, [])).toEqual({ msPer1000Steps: null, backend: 'wasm' })
  })
})
