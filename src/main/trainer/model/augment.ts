import * as tf from '@tensorflow/tfjs'
import type { Rng } from './rng'

/**
 * DiffAugment (Zhao et al. 2020): differentiable colour, translation and cutout, applied with
 * fresh random parameters to the real and the generated batch before the discriminator sees them,
 * so D cannot memorise a small dataset. All random draws come from the trainer's seeded RNG.
 */
export interface AugmentPolicy {
  color: boolean
  translation: boolean
  cutout: boolean
}

export function isIdentity(p: AugmentPolicy): boolean {
  return !p.color && !p.translation && !p.cutout
}

/** x in [-1, 1], NHWC. Returns a new tensor (call inside tidy or a gradient scope). */
export function diffAugment(x: tf.Tensor4D, policy: AugmentPolicy, rng: Rng): tf.Tensor4D {
  const [b, h, w] = x.shape
  let out = x
  if (policy.color) {
    const brightness = tf.tensor4d(Float32Array.from({ length: b }, () => rng.next() - 0.5), [b, 1, 1, 1])
    out = tf.add(out, tf.mul(brightness, 2))
    const sat = tf.tensor4d(Float32Array.from({ length: b }, () => rng.next() * 2), [b, 1, 1, 1])
    const pixelMean = tf.mean(out, 3, true)
    out = tf.add(tf.mul(tf.sub(out, pixelMean), sat), pixelMean)
    const con = tf.tensor4d(Float32Array.from({ length: b }, () => rng.next() + 0.5), [b, 1, 1, 1])
    const imageMean = tf.mean(out, [1, 2, 3], true)
    out = tf.add(tf.mul(tf.sub(out, imageMean), con), imageMean)
  }
  if (policy.translation) {
    // Shift each image by up to 1/8 of its size, filling with zeros (mid-grey in [-1, 1]).
    const pad = Math.max(1, Math.round(h / 8))
    const padded = tf.pad(out, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0]
    ])
    const parts: tf.Tensor4D[] = []
    for (let i = 0; i < b; i++) {
      const dy = pad + rng.int(2 * pad + 1) - pad
      const dx = pad + rng.int(2 * pad + 1) - pad
      parts.push(tf.slice(padded, [i, dy, dx, 0], [1, h, w, -1]))
    }
    out = tf.concat(parts, 0)
  }
  if (policy.cutout) {
    // Zero out one square of half the image size per image.
    const mask = new Float32Array(b * h * w).fill(1)
    const ch = Math.round(h / 2)
    const cw = Math.round(w / 2)
    for (let i = 0; i < b; i++) {
      const cy = rng.int(h + (1 - (ch % 2))) - Math.floor(ch / 2)
      const cx = rng.int(w + (1 - (cw % 2))) - Math.floor(cw / 2)
      for (let y = Math.max(0, cy); y < Math.min(h, cy + ch); y++)
        for (let xx = Math.max(0, cx); xx < Math.min(w, cx + cw); xx++) mask[(i * h + y) * w + xx] = 0
    }
    out = tf.mul(out, tf.tensor4d(mask, [b, h, w, 1]))
  }
  return out
}
