import * as tf from '@tensorflow/tfjs'

/**
 * A short, representative workload for picking a backend: DCGAN-32 shapes at batch 32 — a
 * generator's three 4×4 stride-2 transposed convs (4→8→16→32 px, 256→128→64→3 channels) into a
 * discriminator's three 4×4 stride-2 convs (3→64→128→256), LeakyReLU, a logit, and gradients of
 * the loss for every weight: the kernels a training step spends its time in.
 */

export interface CalibrationResult {
  /** Images per second through the workload (batch / seconds per iteration), steady state. */
  imagesPerSec: number
  iterations: number
  /** First iteration (kernel compilation, allocation). */
  warmupMs: number
}

/** Batch of the full measurement; the quick pre-check uses a smaller one. */
export const CALIBRATION_BATCH = 32

function weights(seed: number): tf.Variable[] {
  const shapes: [number, number, number, number][] = [
    [4, 4, 128, 256], // G up1 (conv2dTranspose: [k, k, out, in])
    [4, 4, 64, 128], // G up2
    [4, 4, 3, 64], // G rgb
    [4, 4, 3, 64], // D conv0
    [4, 4, 64, 128], // D conv1
    [4, 4, 128, 256] // D conv2
  ]
  return tf.tidy(() => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 0.02, 'float32', seed + i))))
}

function step(w: tf.Variable[], z: tf.Tensor4D): tf.Scalar {
  const BATCH = z.shape[0]
  const [g1, g2, g3, d0, d1, d2] = w as unknown as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
  const { value, grads } = tf.variableGrads(() => {
    let x = tf.relu(tf.conv2dTranspose(z, g1, [BATCH, 8, 8, 128], 2, 'same'))
    x = tf.relu(tf.conv2dTranspose(x, g2, [BATCH, 16, 16, 64], 2, 'same'))
    x = tf.tanh(tf.conv2dTranspose(x, g3, [BATCH, 32, 32, 3], 2, 'same'))
    let h = tf.leakyRelu(tf.conv2d(x, d0, 2, 'same'), 0.2)
    h = tf.leakyRelu(tf.conv2d(h, d1, 2, 'same'), 0.2)
    h = tf.leakyRelu(tf.conv2d(h, d2, 2, 'same'), 0.2)
    return tf.mean(tf.softplus(tf.neg(tf.mean(h, [1, 2, 3]))))
  }, w)
  tf.dispose(grads)
  return value
}

/**
 * Runs the workload on the active backend: one warm-up iteration (shader compilation, XNNPACK
 * setup), then timed iterations until `budgetMs` has passed (at least one).
 * Throws when the backend produces a non-finite result.
 */
export async function calibrate(budgetMs = 1500, batch = CALIBRATION_BATCH): Promise<CalibrationResult> {
  const w = weights(7)
  const z = tf.randomNormal([batch, 4, 4, 256], 0, 1, 'float32', 11) as tf.Tensor4D
  try {
    const warmStart = performance.now()
    const warm = tf.tidy(() => step(w, z))
    const first = (await warm.data())[0]!
    warm.dispose()
    const warmupMs = performance.now() - warmStart
    if (!Number.isFinite(first)) throw new Error(`the calibration workload produced ${first}`)
    let iterations = 0
    const start = performance.now()
    let elapsed = 0
    while (iterations === 0 || elapsed < budgetMs) {
      const loss = tf.tidy(() => step(w, z))
      await loss.data()
      loss.dispose()
      iterations++
      elapsed = performance.now() - start
    }
    return { imagesPerSec: (batch * iterations) / (elapsed / 1000), iterations, warmupMs }
  } finally {
    tf.dispose([...w, z])
  }
}

/**
 * A tiny conv forward + backward, read back and compared with plain-JS reference values: proves
 * the backend computes (not merely initialises). Throws with what went wrong.
 */
export async function smokeTest(): Promise<void> {
  const xs = Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => Math.sin(i))
  const fs = Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => Math.cos(i))
  const [y, dw] = tf.tidy(() => {
    const x = tf.tensor4d(xs, [2, 4, 4, 2])
    const f = tf.tensor4d(fs, [2, 2, 2, 3])
    const out = tf.conv2d(x, f, 2, 'valid')
    const g = tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, 2, 'valid')))(f)
    return [out, g]
  })
  const [yv, dwv] = await Promise.all([y.data(), dw.data()])
  tf.dispose([y, dw])
  // Reference: output[0,0,0,0] = Σ x[0,i,j,c] f[i,j,c,0] over the top-left 2×2 window.
  let ref = 0
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let c = 0; c < 2; c++) ref += xs[(i * 4 + j) * 2 + c]! * fs[(i * 2 + j) * 6 + c * 3]!
  // dW[0,0,0,*] = Σ over batch and the 2×2 output positions of x[n, 2a, 2b, 0].
  let refDw = 0
  for (let n = 0; n < 2; n++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) refDw += xs[((n * 4 + 2 * a) * 4 + 2 * b) * 2]!
  const ok = Math.abs(yv[0]! - ref) < 1e-3 && Math.abs(dwv[0]! - refDw) < 1e-3
  if (!ok) throw new Error(`a test convolution gave wrong numbers (${yv[0]} vs ${ref}, ${dwv[0]} vs ${refDw})`)
}
