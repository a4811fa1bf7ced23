import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { actGradKernel, biasActKernel, channelNormGradKernel, channelNormKernel, channelSumKernel, gluGradKernel, gluKernel, type Activation } from '../../../../src/main/trainer/nn/kernels'
import { nativeStatus, setNativeEnabled } from '../../../../src/main/trainer/tf/native'
import { prepareWasm } from '../../../../src/main/trainer/tf/wasm'

/**
 * The element-wise kernels of nn/kernels.ts run in the native addon on `wasm` when it is loaded;
 * each must give what the JavaScript loops give (the native kernels switched off in this thread).
 */
beforeAll(async () => {
  await prepareWasm()
  expect(await tf.setBackend('wasm')).toBe(true)
  const status = nativeStatus()
  if (!status.isa) throw new Error(`the native kernels are not loaded (${status.reason}): run \`npm run build:native\``)
})

afterEach(() => {
  setNativeEnabled(true)
})

function both(run: () => tf.Tensor[] | null): { native: Float32Array[]; js: Float32Array[] } {
  const read = (ts: tf.Tensor[] | null): Float32Array[] => {
    expect(ts).not.toBeNull()
    const out = ts!.map((t) => t.dataSync() as Float32Array)
    tf.dispose(ts!)
    return out
  }
  const native = read(run())
  setNativeEnabled(false)
  const js = read(run())
  setNativeEnabled(true)
  return { native, js }
}

function close(a: Float32Array[], b: Float32Array[], tol: number): void {
  expect(a.length).toBe(b.length)
  a.forEach((x, i) => {
    const y = b[i]!
    expect(x.length).toBe(y.length)
    let worst = 0
    let scale = 1e-6
    for (let j = 0; j < x.length; j++) {
      worst = Math.max(worst, Math.abs(x[j]! - y[j]!))
      scale = Math.max(scale, Math.abs(y[j]!))
    }
    expect(worst / scale, `output ${i}`).toBeLessThan(tol)
  })
}

const ACTS: Activation[] = ['linear', 'relu', 'leakyrelu', 'tanh', 'sigmoid']
const shape: [number, number, number, number] = [4, 6, 5, 24]

describe('native element-wise kernels match the JavaScript ones', () => {
  it.each(ACTS)('activation gradient and bias + activation (%s)', (act) => {
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 1)
    const x = tf.randomNormal(shape, 0, 1, 'float32', 2)
    const bias = tf.randomNormal([shape[3]], 0, 1, 'float32', 3)
    const y = tf.tidy(() => (act === 'tanh' ? tf.tanh(x) : act === 'sigmoid' ? tf.sigmoid(x) : x))
    const g = both(() => actGradKernel([dy, y], { act, alpha: 0.2 }))
    close(g.native, g.js, 1e-6)
    const b = both(() => biasActKernel([x, bias], { act, alpha: 0.2 }))
    close(b.native, b.js, 1e-6)
    tf.dispose([dy, x, bias, y])
  })

  it.each([false, true])('per-channel sums, channel norm and its gradient (sample-weighted: %s)', (weighted) => {
    const x = tf.randomNormal(shape, 0.3, 2, 'float32', 4)
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 5)
    const gamma = tf.randomNormal([shape[3]], 1, 0.2, 'float32', 6)
    const beta = tf.randomNormal([shape[3]], 0, 0.2, 'float32', 7)
    const w = tf.tensor1d([0.5, 0, 2, -1])
    const s = both(() => channelSumKernel(weighted ? [dy, w] : [dy], { weighted }))
    close(s.native, s.js, 1e-6)
    const n = both(() => channelNormKernel([x, gamma, beta], { epsilon: 1e-5 }))
    close(n.native, n.js, 1e-5)
    const [, xhat, rstd] = channelNormKernel([x, gamma, beta], { epsilon: 1e-5 })!
    const ng = both(() => channelNormGradKernel(weighted ? [dy, xhat!, rstd!, gamma, w] : [dy, xhat!, rstd!, gamma], { weighted }))
    close(ng.native, ng.js, 1e-5)
    tf.dispose([x, dy, gamma, beta, w, xhat!, rstd!])
  })

  it('gated linear unit and its gradient', () => {
    const x = tf.randomNormal([4, 6, 5, 32], 0, 2, 'float32', 8)
    const dy = tf.randomNormal([4, 6, 5, 16], 0, 1, 'float32', 9)
    const g = both(() => gluKernel([x], {}))
    close(g.native, g.js, 1e-6)
    const [, gate] = gluKernel([x], {})!
    const gg = both(() => gluGradKernel([dy, x, gate!], {}))
    close(gg.native, gg.js, 1e-6)
    tf.dispose([x, dy, gate!])
  })
})
