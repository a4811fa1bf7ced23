import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { StudioError } from '@shared/errors'
import { initBackend } from '../../../../src/main/trainer/tf/backends'
import { webgpuAdapter } from '../../../../src/main/trainer/tf/webgpu'

/**
 * WebGPU runs on whatever adapter Dawn finds here (on a machine without a GPU, Mesa's software
 * driver if it is installed). Where none works, the comparison is reported as skipped, with the
 * reason printed once, and a separate test checks that the reason is a clear sentence.
 */

async function probe(): Promise<unknown> {
  try {
    await initBackend('webgpu')
    return null
  } catch (err) {
    return err
  }
}

const failure = await probe()
const unavailable = failure === null ? null : failure instanceof Error ? failure.message : String(failure)
if (unavailable !== null) console.warn(`webgpu tests skipped: no usable WebGPU adapter here (${unavailable})`)

function values(seed: number, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 12.9898 + i * 78.233) * 0.5
  return out
}

async function convAndGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const x = tf.tensor4d(values(1, 4 * 16 * 16 * 8), [4, 16, 16, 8])
  const f = tf.tensor4d(values(2, 4 * 4 * 8 * 16), [4, 4, 8, 16])
  const outs = tf.tidy(() => {
    const y = tf.conv2d(x, f, 2, 'same')
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').square().sum())([x, f])
    return [y, dx!, df!]
  })
  const data = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>))
  tf.dispose([x, f, ...outs])
  return data
}

describe('webgpu', () => {
  it.runIf(unavailable !== null)('when it cannot start, says why in one clear sentence', () => {
    expect(failure).toBeInstanceOf(StudioError)
    expect(unavailable).toMatch(/^webgpu: \S.{10,}/)
    expect(unavailable).not.toMatch(/\n\s+at /)
  })

  it.skipIf(unavailable !== null)('runs a conv2d and its gradients and matches cpu', async () => {
    const adapter = webgpuAdapter()
    expect(adapter).not.toBeNull()
    expect(adapter!.name.length).toBeGreaterThan(0)
    expect(typeof adapter!.software).toBe('boolean')
    console.info(`webgpu adapter: ${adapter!.name} (${adapter!.path}${adapter!.software ? ', software' : ''})`)
    const gpu = await convAndGrads('webgpu')
    const cpu = await convAndGrads('cpu')
    gpu.forEach((g, k) => {
      const ref = cpu[k]!
      let worst = 0
      let scale = 0
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(g[i]! - ref[i]!))
        scale = Math.max(scale, Math.abs(ref[i]!))
      }
      expect(worst / (1 + scale), `output ${k}`).toBeLessThan(1e-4)
    })
  }, 120_000)
})
