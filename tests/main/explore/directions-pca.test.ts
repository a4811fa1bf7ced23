import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { invert, orthonormalColumns, symmetricEigen } from '../../../src/main/trainer/directions/linalg'
import { principalDirections } from '../../../src/main/trainer/directions/pca'
import { Rng } from '../../../src/main/trainer/model/rng'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}
const column = (m: Float32Array, rows: number, cols: number, j: number): Float32Array => Float32Array.from({ length: rows }, (_, i) => m[i * cols + j]!)

function randomLatents(n: number, dim: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n * dim), 1)
}

/** features(z) = M z (+ noise), M [D, L] row-major. */
function linearFeatures(m: Float32Array, d: number, l: number, noise = 0, seed = 9): (z: Float32Array, n: number) => tf.Tensor2D {
  const rng = new Rng(seed)
  return (z, n) => {
    const out = new Float32Array(n * d)
    if (noise > 0) rng.fillNormal(out, noise)
    for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) {
      let s = 0
      for (let k = 0; k < l; k++) s += m[i * l + k]! * z[r * l + k]!
      out[r * d + i] = out[r * d + i]! + s
    }
    return tf.tensor2d(out, [n, d])
  }
}

describe('small linear algebra', () => {
  it('orthonormalises columns (and replaces a dependent one), diagonalises a symmetric matrix, inverts', () => {
    const rows = 6
    const m = new Float32Array(rows * 3)
    for (let i = 0; i < rows; i++) {
      m[i * 3] = i + 1
      m[i * 3 + 1] = 2 * (i + 1) // parallel to the first
      m[i * 3 + 2] = i % 2
    }
    const q = orthonormalColumns(m, rows, 3)
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) expect(dot(column(q, rows, 3, a), column(q, rows, 3, b))).toBeCloseTo(a === b ? 1 : 0, 5)
    const sym = [4, 1, 0, 1, 3, 1, 0, 1, 2]
    const { values, vectors } = symmetricEigen(sym, 3)
    expect(values[0]).toBeGreaterThan(values[1]!)
    for (let j = 0; j < 3; j++) {
      const v = vectors[j]!
      for (let i = 0; i < 3; i++) expect(dot(sym.slice(i * 3, i * 3 + 3), v)).toBeCloseTo(values[j]! * v[i]!, 8)
    }
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(9, 8)
    const inv = invert(sym, 3)
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(dot(sym.slice(i * 3, i * 3 + 3), [inv[j]!, inv[3 + j]!, inv[6 + j]!])).toBeCloseTo(i === j ? 1 : 0, 8)
    expect(() => invert([1, 2, 2, 4], 2)).toThrow(/singular/)
  })
})

describe('principal directions', () => {
  it('finds known principal axes: variances, explained shares, and the latent directions that move along them', async () => {
    // Features = A·diag(s)·Rᵀ z + a little noise: principal axes A, variances s², and the latent
    // direction of axis i is column i of R (the rotation the test hides in the latent space).
    const d = 40
    const l = 8
    const s = [5, 4, 3, 2, 1.2, 0.8, 0.5, 0.3]
    const rng = new Rng(3)
    const a = orthonormalColumns(rng.fillNormal(new Float32Array(d * l)), d, l, rng)
    const r = orthonormalColumns(rng.fillNormal(new Float32Array(l * l)), l, l, rng)
    const m = new Float32Array(d * l)
    for (let i = 0; i < d; i++)
      for (let k = 0; k < l; k++) {
        let v = 0
        for (let j = 0; j < l; j++) v += a[i * l + j]! * s[j]! * r[k * l + j]!
        m[i * l + k] = v
      }
    const n = 4000
    const before = tf.memory().numTensors
    const progress: [number, number][] = []
    const result = await principalDirections(randomLatents(n, l, 11), l, linearFeatures(m, d, l, 0.05), { components: 6, batch: 512, onProgress: (x, t) => progress.push([x, t]) })
    expect(tf.memory().numTensors).toBe(before)
    expect(result).toMatchObject({ featureDim: d, samples: n })
    expect(result.directions).toHaveLength(6)
    const totalExpected = s.reduce((acc, v) => acc + v * v, 0) + d * 0.05 ** 2
    expect(result.totalVariance / totalExpected).toBeGreaterThan(0.95)
    expect(result.totalVariance / totalExpected).toBeLessThan(1.05)
    result.directions.forEach((dir, i) => {
      expect(dir.variance / (s[i]! ** 2)).toBeGreaterThan(0.9)
      expect(dir.variance / (s[i]! ** 2)).toBeLessThan(1.1)
      expect(dir.explained).toBeCloseTo(dir.variance / result.totalVariance, 6)
      expect(Math.abs(dot(dir.vector, column(r, l, l, i)))).toBeGreaterThan(0.98)
      expect(dot(dir.vector, dir.vector)).toBeCloseTo(1, 5)
      expect(dir.sigma).toBeGreaterThan(0.95)
      expect(dir.sigma).toBeLessThan(1.05)
    })
    // Progress counts every batch of every pass, ending at the total.
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1])
    expect(progress.map((p) => p[0])).toEqual([...progress.map((p) => p[0])].sort((x, y) => x - y))
  })

  it('a generic linear generator: the directions are its right singular vectors, in order of singular value', async () => {
    const d = 30
    const l = 6
    const rng = new Rng(5)
    const m = rng.fillNormal(new Float32Array(d * l))
    // Mᵀ M's eigenvectors are M's right singular vectors.
    const mtm = new Float64Array(l * l)
    for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) for (let k = 0; k < d; k++) mtm[i * l + j] += m[k * l + i]! * m[k * l + j]!
    const svd = symmetricEigen(mtm, l)
    const result = await principalDirections(randomLatents(6000, l, 2), l, linearFeatures(m, d, l), { components: 3 })
    expect(result.directions).toHaveLength(3)
    result.directions.forEach((dir, i) => {
      expect(Math.abs(dot(dir.vector, svd.vectors[i]!))).toBeGreaterThan(0.97)
      expect(dir.variance / svd.values[i]!).toBeGreaterThan(0.9)
      expect(dir.variance / svd.values[i]!).toBeLessThan(1.1)
    })
    // The same latents give the same directions (signs included).
    const again = await principalDirections(randomLatents(6000, l, 2), l, linearFeatures(m, d, l), { components: 3 })
    expect(Array.from(again.directions[1]!.vector)).toEqual(Array.from(result.directions[1]!.vector))
  })

  it('cancels between batches and leaks no tensors; features that never vary are refused', async () => {
    const before = tf.memory().numTensors
    const ctrl = new AbortController()
    const m = new Rng(1).fillNormal(new Float32Array(20 * 4))
    const run = principalDirections(randomLatents(2000, 4, 1), 4, linearFeatures(m, 20, 4), {
      components: 2,
      batch: 100,
      onProgress: (done) => {
        if (done === 30) ctrl.abort()
      },
      signal: ctrl.signal
    })
    await expect(run).rejects.toMatchObject({ code: 'cancelled' })
    expect(tf.memory().numTensors).toBe(before)
    await expect(principalDirections(randomLatents(100, 4, 1), 4, (_z, n) => tf.zeros([n, 10]) as tf.Tensor2D, { components: 2 })).rejects.toMatchObject({ code: 'bad-input' })
    expect(tf.memory().numTensors).toBe(before)
  })
})
