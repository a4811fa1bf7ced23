import { Rng } from '../model/rng'

/**
 * Small dense linear algebra in float64 for principal directions: orthonormalising the columns of a
 * tall matrix, the eigen-decomposition of a small symmetric matrix (cyclic Jacobi), and the inverse
 * of a small matrix. Matrices are row-major; sizes here are at most a few dozen columns.
 */

/**
 * Orthonormal columns spanning those of `m` (rows × cols, row-major), by modified Gram–Schmidt run
 * twice (float64). A column that is (numerically) in the span of the earlier ones is replaced by a
 * fresh random one from `rng`, so the result always has `cols` orthonormal columns (cols ≤ rows).
 */
export function orthonormalColumns(m: ArrayLike<number>, rows: number, cols: number, rng: Rng = new Rng(1)): Float32Array {
  if (cols > rows) throw new Error(`cannot have ${cols} orthonormal columns of length ${rows}`)
  const col: Float64Array[] = []
  for (let j = 0; j < cols; j++) {
    const v = new Float64Array(rows)
    for (let i = 0; i < rows; i++) v[i] = m[i * cols + j]!
    col.push(v)
  }
  const norm = (v: Float64Array): number => {
    let s = 0
    for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!
    return Math.sqrt(s)
  }
  const scale = Math.max(1e-300, ...col.map(norm))
  for (let j = 0; j < cols; j++) {
    const v = col[j]!
    for (let attempt = 0; ; attempt++) {
      const before = norm(v)
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < j; k++) {
          const u = col[k]!
          let dot = 0
          for (let i = 0; i < rows; i++) dot += u[i]! * v[i]!
          for (let i = 0; i < rows; i++) v[i] = v[i]! - dot * u[i]!
        }
      }
      const n = norm(v)
      // Lost nearly everything to the earlier columns: a dependent column, replaced by a random one.
      if (n > 1e-10 * Math.max(before, scale) && n > 0) {
        for (let i = 0; i < rows; i++) v[i] = v[i]! / n
        break
      }
      if (attempt > 8) throw new Error('could not orthonormalise the columns')
      const fresh = new Float32Array(rows)
      rng.fillNormal(fresh, 1)
      v.set(fresh)
    }
  }
  const out = new Float32Array(rows * cols)
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) out[i * cols + j] = col[j]![i]!
  return out
}

/**
 * Eigenvalues (descending) and unit eigenvectors of a symmetric n × n matrix (row-major), by cyclic
 * Jacobi rotations. `vectors[j]` belongs to `values[j]`.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: number[]; vectors: Float64Array[] } {
  const m = new Float64Array(n * n)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (a[i * n + j]! + a[j * n + i]!) / 2
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    let diag = 0
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i]! ** 2
      for (let j = i + 1; j < n; j++) off += m[i * n + j]! ** 2
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!
        if (apq === 0) continue
        const app = m[p * n + p]!
        const aqq = m[q * n + q]!
        const theta = (aqq - app) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!
          const akq = m[k * n + q]!
          m[k * n + p] = c * akp - s * akq
          m[k * n + q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!
          const aqk = m[q * n + k]!
          m[p * n + k] = c * apk - s * aqk
          m[q * n + k] = s * apk + c * aqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!
          const vkq = v[k * n + q]!
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y]! - m[x * n + x]!)
  return {
    values: order.map((i) => m[i * n + i]!),
    vectors: order.map((j) => {
      const e = new Float64Array(n)
      for (let k = 0; k < n; k++) e[k] = v[k * n + j]!
      return e
    })
  }
}

/** The inverse of an n × n matrix (row-major), by Gauss–Jordan elimination with partial pivoting; throws when singular. */
export function invert(a: ArrayLike<number>, n: number): Float64Array {
  const m = new Float64Array(n * 2 * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * 2 * n + j] = a[i * n + j]!
    m[i * 2 * n + n + i] = 1
  }
  let scale = 0
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]!))
  for (let c = 0; c < n; c++) {
    let pivot = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * 2 * n + c]!) > Math.abs(m[pivot * 2 * n + c]!)) pivot = r
    const p = m[pivot * 2 * n + c]!
    if (!(Math.abs(p) > 1e-12 * scale)) throw new Error('the matrix is singular')
    if (pivot !== c) {
      for (let k = 0; k < 2 * n; k++) {
        const t = m[c * 2 * n + k]!
        m[c * 2 * n + k] = m[pivot * 2 * n + k]!
        m[pivot * 2 * n + k] = t
      }
    }
    for (let k = 0; k < 2 * n; k++) m[c * 2 * n + k] = m[c * 2 * n + k]! / p
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = m[r * 2 * n + c]!
      if (f === 0) continue
      for (let k = 0; k < 2 * n; k++) m[r * 2 * n + k] = m[r * 2 * n + k]! - f * m[c * 2 * n + k]!
    }
  }
  const out = new Float64Array(n * n)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[i * 2 * n + n + j]!
  return out
}
