import { latentForSeed } from '../trainer/model/rng'

/**
 * Latent-space helpers shared by generation, walks and the exported page.
 *
 * Truncation ψ: the latent prior is a standard normal with mean 0, so "truncating towards the
 * mean" is simply z' = ψ·z. ψ = 1 leaves the latent as drawn (the image the run's sample grids
 * show); ψ < 1 pulls it towards the average image (cleaner, less varied); ψ = 0 gives the same
 * image for every seed; ψ > 1 pushes away from it (more varied, stranger). Range [0, 2].
 */

export const TRUNCATION_MIN = 0
export const TRUNCATION_MAX = 2

/** The latent for a seed with truncation ψ applied (z' = ψ·z). */
export function truncatedLatent(seed: number, dim: number, psi: number): Float32Array {
  const z = latentForSeed(seed, dim)
  if (psi !== 1) for (let i = 0; i < z.length; i++) z[i] = z[i]! * psi
  return z
}

/** Latents for several seeds, one row each, flattened. */
export function latentsFor(seeds: readonly number[], dim: number, psi: number): Float32Array {
  const out = new Float32Array(seeds.length * dim)
  seeds.forEach((s, i) => out.set(truncatedLatent(s, dim, psi), i * dim))
  return out
}

/**
 * Spherical interpolation between a and b at t ∈ [0, 1]: follows the great circle between their
 * directions while interpolating the angle evenly, which keeps intermediate latents at a typical
 * length for a Gaussian prior (a straight line passes through unusually short latents). Falls back
 * to linear interpolation when the vectors are (nearly) parallel or either is (nearly) zero.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  const out = new Float32Array(a.length)
  const denom = Math.sqrt(na * nb)
  const cos = denom > 1e-12 ? Math.min(1, Math.max(-1, dot / denom)) : 1
  const omega = Math.acos(cos)
  const sin = Math.sin(omega)
  if (sin < 1e-6) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!
    return out
  }
  const wa = Math.sin((1 - t) * omega) / sin
  const wb = Math.sin(t * omega) / sin
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!
  return out
}

/** Ease-in-out (cosine): lingers near each keyframe and moves fastest between them. */
export function easeInOut(t: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * t)
}

/** Frames in a walk of `seconds` at `fps` (at least 2). */
export function walkFrameCount(seconds: number, fps: number): number {
  return Math.max(2, Math.round(seconds * fps))
}

export const EASINGS = ['ease-in-out', 'linear', 'ease-in', 'ease-out'] as const
export type Easing = (typeof EASINGS)[number]

/** Position along a segment (0…1) for the time along it (0…1). Every easing meets both ends. */
export function ease(easing: Easing, t: number): number {
  switch (easing) {
    case 'linear':
      return t
    case 'ease-in':
      return 1 - Math.cos((Math.PI * t) / 2)
    case 'ease-out':
      return Math.sin((Math.PI * t) / 2)
    default:
      return easeInOut(t)
  }
}

/**
 * The latents of a looping walk through keyframe seeds: `frames` evenly timed frames over the
 * closed path k0 → k1 → … → k(n-1) → k0, each segment eased. Frame 0 is exactly keyframe 0, and the
 * frame after the last would be keyframe 0 again, so the animation loops without a seam.
 */
export function walkLatents(seeds: readonly number[], frames: number, dim: number, psi: number): Float32Array {
  if (seeds.length < 1) throw new Error('a walk needs at least one keyframe seed')
  return keyframedLatents(
    seeds.map((s) => latentForSeed(s, dim)),
    seeds.map(() => 1),
    seeds.map(() => 'ease-in-out'),
    frames,
    psi
  )
}

/**
 * A looping walk through keyframe latents with a duration and an easing per segment (segment i
 * runs from keyframe i to keyframe i+1, the last back to the first). Frames are evenly timed over
 * the whole loop; frame 0 is keyframe 0 and the frame after the last would be keyframe 0 again, so
 * the loop has no seam. Durations are relative (only their ratios matter).
 */
export function keyframedLatents(keys: readonly Float32Array[], durations: readonly number[], easings: readonly Easing[], frames: number, psi: number): Float32Array {
  const n = keys.length
  if (n < 1) throw new Error('a walk needs at least one keyframe')
  if (durations.length !== n || easings.length !== n) throw new Error('one duration and one easing per keyframe')
  const dim = keys[0]!.length
  const total = durations.reduce((a, b) => a + b, 0)
  if (!(total > 0) || durations.some((d) => !(d > 0))) throw new Error('every segment needs a positive duration')
  const starts: number[] = []
  let acc = 0
  for (const d of durations) {
    starts.push(acc)
    acc += d
  }
  const out = new Float32Array(frames * dim)
  let i = 0
  for (let f = 0; f < frames; f++) {
    const t = (f / frames) * total
    while (i < n - 1 && t >= starts[i + 1]!) i++
    const u = ease(easings[i]!, Math.min(1, (t - starts[i]!) / durations[i]!))
    const z = u === 0 ? keys[i]!.slice() : slerp(keys[i]!, keys[(i + 1) % n]!, u)
    // Truncation after interpolation: slerp(ψa, ψb) = ψ·slerp(a, b), and it stays defined at ψ = 0.
    if (psi !== 1) for (let k = 0; k < dim; k++) z[k] = z[k]! * psi
    out.set(z, f * dim)
  }
  return out
}
