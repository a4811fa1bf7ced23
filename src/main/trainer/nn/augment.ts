import * as tf from '@tensorflow/tfjs'
import type { Rng } from '../model/rng'
import { defineKernel } from './kernels'

/**
 * DiffAugment (Zhao et al. 2020): colour, translation and cutout, applied with fresh random
 * parameters to the real and the generated batch before the discriminator sees them, so D cannot
 * memorise a small dataset. Every transform is linear in the image once its parameters are drawn,
 * so the backward pass is the adjoint: the colour maps (a shift, then blends with the per-pixel
 * and per-image means) are symmetric apart from the shift, a translation's adjoint is the opposite
 * translation, cutout's mask is its own adjoint.
 *
 * Parameters are drawn on the CPU from the trainer's seeded RNG, in a fixed order.
 */

export interface AugmentPolicy {
  color: boolean
  translation: boolean
  cutout: boolean
}

export interface AugmentParams {
  batch: number
  size: number
  /** Per image: brightness shift, saturation and contrast factors (when colour is on). */
  brightness: number[] | null
  saturation: number[] | null
  contrast: number[] | null
  /** Per image: vertical and horizontal shift in pixels (y_out(i) = x(i + shift)). */
  shiftY: number[] | null
  shiftX: number[] | null
  /** Per image: top-left corner of the cut-out square, and its side. */
  cutY: number[] | null
  cutX: number[] | null
  cutSize: number
}

export function isIdentity(p: AugmentPolicy): boolean {
  return !p.color && !p.translation && !p.cutout
}

/** Draws one batch's parameters (the same draws, in the same order, as the transforms apply). */
export function drawAugment(policy: AugmentPolicy, batch: number, size: number, rng: Rng): AugmentParams {
  const out: AugmentParams = { batch, size, brightness: null, saturation: null, contrast: null, shiftY: null, shiftX: null, cutY: null, cutX: null, cutSize: 0 }
  if (policy.color) {
    out.brightness = Array.from({ length: batch }, () => (rng.next() - 0.5) * 2)
    out.saturation = Array.from({ length: batch }, () => rng.next() * 2)
    out.contrast = Array.from({ length: batch }, () => rng.next() + 0.5)
  }
  if (policy.translation) {
    // Shift by up to 1/8 of the size, filling with zeros (mid-grey in [-1, 1]).
    const pad = Math.max(1, Math.round(size / 8))
    out.shiftY = []
    out.shiftX = []
    for (let i = 0; i < batch; i++) {
      out.shiftY.push(rng.int(2 * pad + 1) - pad)
      out.shiftX.push(rng.int(2 * pad + 1) - pad)
    }
  }
  if (policy.cutout) {
    // One square of half the image size per image, which may hang over the edges.
    const c = Math.round(size / 2)
    out.cutSize = c
    out.cutY = []
    out.cutX = []
    for (let i = 0; i < batch; i++) {
      out.cutY.push(rng.int(size + (1 - (c % 2))) - Math.floor(c / 2))
      out.cutX.push(rng.int(size + (1 - (c % 2))) - Math.floor(c / 2))
    }
  }
  return out
}

type Attrs = { params: AugmentParams; adjoint: boolean }

/** Colour maps on one image in place (forward: shift then the blends; adjoint: the blends reversed, no shift). */
function colour(v: Float32Array, base: number, hw: number, b: number, p: AugmentParams, adjoint: boolean): void {
  const n = hw * 3
  const sat = p.saturation![b]!
  const con = p.contrast![b]!
  const saturate = (): void => {
    for (let q = 0; q < hw; q++) {
      const o = base + q * 3
      const m = (v[o]! + v[o + 1]! + v[o + 2]!) / 3
      v[o] = (v[o]! - m) * sat + m
      v[o + 1] = (v[o + 1]! - m) * sat + m
      v[o + 2] = (v[o + 2]! - m) * sat + m
    }
  }
  const contrast = (): void => {
    let s = 0
    for (let i = 0; i < n; i++) s += v[base + i]!
    const m = s / n
    for (let i = 0; i < n; i++) v[base + i] = (v[base + i]! - m) * con + m
  }
  if (adjoint) {
    contrast()
    saturate()
  } else {
    const br = p.brightness![b]!
    for (let i = 0; i < n; i++) v[base + i]! += br
    saturate()
    contrast()
  }
}

const augmentKernel = defineKernel<Attrs>({
  name: 'Augment',
  outputs: ([x]) => [x!],
  run([x], [y], [shape], { params: p, adjoint }) {
    const [n, h, w, c] = shape as [number, number, number, number]
    if (c !== 3) throw new Error('augmentation expects RGB images')
    const hw = h * w
    const src = x!
    const out = y!
    for (let b = 0; b < n; b++) {
      const base = b * hw * 3
      // Forward order: colour → translation → cutout. The adjoint runs them in reverse.
      let sy = 0
      let sx = 0
      if (p.shiftY) {
        sy = adjoint ? -p.shiftY[b]! : p.shiftY[b]!
        sx = adjoint ? -p.shiftX![b]! : p.shiftX![b]!
      }
      const cy0 = p.cutY ? p.cutY[b]! : 0
      const cx0 = p.cutX ? p.cutX[b]! : 0
      const cut = p.cutY !== null
      if (!adjoint && p.brightness) {
        // Colour first (on a copy), then move.
        const tmp = src.slice(base, base + hw * 3)
        colour(tmp, 0, hw, b, p, false)
        place(tmp, 0)
      } else {
        place(src, base)
        if (adjoint && p.brightness) colour(out, base, hw, b, p, true)
      }
      function place(from: Float32Array, fromBase: number): void {
        for (let i = 0; i < h; i++) {
          const yi = i + sy
          for (let j = 0; j < w; j++) {
            const o = base + (i * w + j) * 3
            const xj = j + sx
            // Cutout zeroes output pixels (forward) or the gradient of those pixels (adjoint: input side).
            const ci = adjoint ? yi : i
            const cj = adjoint ? xj : j
            const inCut = cut && ci >= cy0 && ci < cy0 + p.cutSize && cj >= cx0 && cj < cx0 + p.cutSize
            if (yi < 0 || yi >= h || xj < 0 || xj >= w || inCut) {
              out[o] = 0
              out[o + 1] = 0
              out[o + 2] = 0
            } else {
              const s = fromBase + (yi * w + xj) * 3
              out[o] = from[s]!
              out[o + 1] = from[s + 1]!
              out[o + 2] = from[s + 2]!
            }
          }
        }
      }
    }
  }
})

/** The same maps with tf ops (backends without the fused kernel). */
function augmentWithOps(x: tf.Tensor4D, p: AugmentParams, adjoint: boolean): tf.Tensor4D {
  const [n, h, w] = x.shape
  const perImage = (v: number[]): tf.Tensor4D => tf.tensor4d(v, [n, 1, 1, 1])
  const colourOps = (t: tf.Tensor4D, reverse: boolean): tf.Tensor4D => {
    const sat = (u: tf.Tensor4D): tf.Tensor4D => {
      const m = tf.mean(u, 3, true)
      return tf.add(tf.mul(tf.sub(u, m), perImage(p.saturation!)), m) as tf.Tensor4D
    }
    const con = (u: tf.Tensor4D): tf.Tensor4D => {
      const m = tf.mean(u, [1, 2, 3], true)
      return tf.add(tf.mul(tf.sub(u, m), perImage(p.contrast!)), m) as tf.Tensor4D
    }
    return reverse ? sat(con(t)) : con(sat(tf.add(t, perImage(p.brightness!)) as tf.Tensor4D))
  }
  const shift = (t: tf.Tensor4D, sign: number): tf.Tensor4D => {
    const pad = Math.max(...p.shiftY!.map(Math.abs), ...p.shiftX!.map(Math.abs), 1)
    const padded = tf.pad(t, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0]
    ])
    const parts = Array.from({ length: n }, (_, b) => tf.slice(padded, [b, pad + sign * p.shiftY![b]!, pad + sign * p.shiftX![b]!, 0], [1, h, w, -1]))
    return tf.concat(parts, 0)
  }
  const mask = (): tf.Tensor4D => {
    const m = new Float32Array(n * h * w).fill(1)
    for (let b = 0; b < n; b++)
      for (let i = Math.max(0, p.cutY![b]!); i < Math.min(h, p.cutY![b]! + p.cutSize); i++)
        for (let j = Math.max(0, p.cutX![b]!); j < Math.min(w, p.cutX![b]! + p.cutSize); j++) m[(b * h + i) * w + j] = 0
    return tf.tensor4d(m, [n, h, w, 1])
  }
  let out = x
  if (!adjoint) {
    if (p.brightness) out = colourOps(out, false)
    if (p.shiftY) out = shift(out, 1)
    if (p.cutY) out = tf.mul(out, mask()) as tf.Tensor4D
  } else {
    if (p.cutY) out = tf.mul(out, mask()) as tf.Tensor4D
    if (p.shiftY) out = shift(out, -1)
    if (p.brightness) out = colourOps(out, true)
  }
  return out
}

function apply(x: tf.Tensor4D, p: AugmentParams, adjoint: boolean): tf.Tensor4D {
  if (!p.brightness && !p.shiftY && !p.cutY) return x
  const fast = augmentKernel([x], { params: p, adjoint })
  return fast ? (fast[0] as tf.Tensor4D) : augmentWithOps(x, p, adjoint)
}

/** x (NHWC, [-1, 1]) → the augmented batch. */
export function augmentForward(x: tf.Tensor4D, p: AugmentParams): tf.Tensor4D {
  return apply(x, p, false)
}

/** The gradient with respect to the un-augmented batch, from the gradient of the augmented one. */
export function augmentBackward(dy: tf.Tensor4D, p: AugmentParams): tf.Tensor4D {
  return apply(dy, p, true)
}
