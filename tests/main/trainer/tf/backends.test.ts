import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { StudioError } from '@shared/errors'
import { calibrationKey, describeActiveBackend, initBackend, probeBackends } from '../../../../src/main/trainer/tf/backends'
import { explainLoadError, tfjsNodeGpuVersion } from '../../../../src/main/trainer/tf/tensorflow'

const dir = mkdtempSync(join(tmpdir(), 'gan-backends-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function rejection(p: Promise<unknown>): Promise<StudioError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(StudioError)
    return err as StudioError
  }
  throw new Error('expected a rejection')
}

function writeCache(file: string, results: Record<string, { available: boolean; reason: string | null; imagesPerSec: number | null }>) {
  const key = calibrationKey()
  writeFileSync(file, JSON.stringify({ version: 1, entries: { anything: { key, measuredAt: '2026-01-02T00:00:00.000Z', results } } }))
}

describe('explicit backends', () => {
  it('activates wasm and records the others as not requested', async () => {
    const record = await initBackend('wasm')
    expect(tf.getBackend()).toBe('wasm')
    expect(record).toMatchObject({ requested: 'wasm', used: 'wasm' })
    expect(record.passedOver.map((p) => p.name).sort()).toEqual(['cpu', 'tensorflow', 'webgpu'])
    expect(describeActiveBackend()).toMatch(/^wasm \(.*SIMD/)
  })

  it('activates cpu when asked for it by name', async () => {
    const record = await initBackend('cpu')
    expect(tf.getBackend()).toBe('cpu')
    expect(record.used).toBe('cpu')
  })

  it('tensorflow: says precisely why it cannot be used, or uses it', async () => {
    if (tfjsNodeGpuVersion() === null) {
      const err = await rejection(initBackend('tensorflow'))
      expect(err.code).toBe('backend-unavailable')
      expect(err.message).toBe('tensorflow: @tensorflow/tfjs-node-gpu is not installed')
    } else {
      // Installed here: it either works or fails with a reason naming the package or a library.
      try {
        expect((await initBackend('tensorflow')).used).toBe('tensorflow')
      } catch (err) {
        expect((err as StudioError).code).toBe('backend-unavailable')
        expect((err as StudioError).message).toMatch(/^tensorflow: /)
      }
    }
  })
})

describe('explainLoadError', () => {
  it('tells "not installed" from a broken install', () => {
    const notFound = Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node-gpu'\nRequire stack:\n- /x.js"), { code: 'MODULE_NOT_FOUND' })
    expect(explainLoadError(notFound)).toBe('@tensorflow/tfjs-node-gpu is not installed')
    // A dependency of the package missing is not "the package is not installed".
    const depMissing = Object.assign(new Error("Cannot find module 'adm-zip'"), { code: 'MODULE_NOT_FOUND' })
    expect(explainLoadError(depMissing)).toBe("@tensorflow/tfjs-node-gpu failed to load: Cannot find module 'adm-zip'")
    expect(explainLoadError(new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory'))).toBe(
      '@tensorflow/tfjs-node-gpu is installed but libcudart.so.11.0 is missing (install the CUDA and cuDNN versions it was built for)'
    )
    expect(explainLoadError(new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /a/b'))).toMatch(
      /native addon is missing/
    )
  })
})

describe('auto', () => {
  it('measures, picks the fastest working backend, caches the answer and reuses it', async () => {
    const cacheFile = join(dir, 'measured.json')
    const logs: string[] = []
    const first = await initBackend('auto', { cacheFile, log: (m) => logs.push(m), calibrationMs: 300 })
    expect(first.requested).toBe('auto')
    expect(first.used).not.toBe('cpu')
    expect(tf.getBackend()).toBe(first.used)
    // Every other backend is accounted for, in words.
    expect(first.passedOver.map((p) => p.name).sort()).toEqual(['cpu', 'tensorflow', 'wasm', 'webgpu'].filter((n) => n !== first.used).sort())
    for (const p of first.passedOver) expect(p.reason).toMatch(new RegExp(`^${p.name}: \\S`))
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { results: Record<string, { imagesPerSec: number | null }> }> }
    const entry = Object.values(cache.entries)[0]!
    expect(entry.results[first.used]!.imagesPerSec).toBeGreaterThan(0)
    expect(logs.some((l) => l.startsWith('Measuring'))).toBe(true)

    const started = performance.now()
    const again = await initBackend('auto', { cacheFile, log: (m) => logs.push(m) })
    expect(again).toEqual(first)
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('explains a slower backend with both speeds', async () => {
    const cacheFile = join(dir, 'slower.json')
    writeCache(cacheFile, {
      tensorflow: { available: false, reason: 'tensorflow: @tensorflow/tfjs-node-gpu is not installed', imagesPerSec: null },
      webgpu: { available: true, reason: null, imagesPerSec: 9.2 },
      wasm: { available: true, reason: null, imagesPerSec: 52.4 },
      cpu: { available: true, reason: 'cpu: too slow', imagesPerSec: null }
    })
    const record = await initBackend('auto', { cacheFile })
    expect(record.used).toBe('wasm')
    expect(record.passedOver).toContainEqual({ name: 'webgpu', reason: 'webgpu: slower here (9.2 img/s vs 52 img/s)' })
    expect(record.passedOver).toContainEqual({ name: 'tensorflow', reason: 'tensorflow: @tensorflow/tfjs-node-gpu is not installed' })
  })

  it('never falls back to cpu for real training, and says so', async () => {
    const err = await rejection(initBackend('auto', { candidates: ['cpu'] }))
    expect(err.code).toBe('backend-unavailable')
    expect(err.message).toMatch(/cpu backend is only for tiny tests/)
  })

  it('uses cpu when the caller allows it and nothing else is allowed', async () => {
    const record = await initBackend('auto', { candidates: ['cpu'], allowCpu: true })
    expect(record.used).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })
})

describe('probeBackends', () => {
  it('lists every backend with a reason when unavailable and leaves the active backend alone', async () => {
    await initBackend('wasm')
    const statuses = await probeBackends()
    expect(statuses.map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu'])
    for (const s of statuses) {
      if (s.available) expect(s.reason).toBeNull()
      else expect(s.reason).toMatch(new RegExp(`^${s.name}: \\S`))
    }
    expect(statuses.find((s) => s.name === 'wasm')!.available).toBe(true)
    expect(statuses.find((s) => s.name === 'cpu')!.available).toBe(true)
    expect(tf.getBackend()).toBe('wasm')
  })
})
