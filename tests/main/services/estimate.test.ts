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
    // 32 images per step, ~38/2 img/s → ~1.7 s a step → ~1,700 s per 1,000 steps.
    expect(base.msPer1000Steps).toBeGreaterThan(1_000_000)
    expect(base.msPer1000Steps).toBeLessThan(2_500_000)
    const bigger = estimateMsPer1000Steps(config({ preprocess: { resolution: 64 } }), backends, [])
    expect(bigger.msPer1000Steps!).toBeCloseTo(base.msPer1000Steps! * 4, -3)

    const past = fakeRun({ config: config(), backend: { requested: 'auto', used: 'wasm', passedOver: [] }, step: 100, trainingMs: 50_000 })
    expect(estimateMsPer1000Steps(config(), backends, [past])).toEqual({ msPer1000Steps: 500_000, backend: 'wasm' })
    expect(estimateMsPer1000Steps(config({ batchSize: 64 }), backends, [past]).msPer1000Steps).not.toBe(500_000)
  })

  it('says nothing when the backend is unavailable or unmeasured', () => {
    expect(estimateMsPer1000Steps(config({ backend: 'tensorflow' }), backends, [])).toEqual({ msPer1000Steps: null, backend: null })
    const unmeasured = backends.map((b) => ({ ...b, imagesPerSec: null }))
    expect(estimateMsPer1000Steps(config({ backend: 'wasm' }), unmeasured, [])).toEqual({ msPer1000Steps: null, backend: 'wasm' })
  })
})
