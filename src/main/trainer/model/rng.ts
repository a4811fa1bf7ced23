/**
 * Seedable random numbers for everything the trainer draws on the CPU: weight init, latent
 * vectors, batch order, augmentation parameters. The state is four uint32 words, saved in every
 * checkpoint, so a resumed run draws exactly what the uninterrupted run would have.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through
 * splitmix32. Normals: Box–Muller.
 */
import { latentForSeed } from '@shared/seed-latent'

export type RngState = [number, number, number, number]

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number | RngState) {
    if (Array.isArray(seed)) {
      ;[this.a, this.b, this.c, this.d] = seed.map((v) => v >>> 0) as RngState
    } else {
      let s = seed >>> 0
      const next = (): number => {
        s = (s + 0x9e3779b9) >>> 0
        let z = s
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
        return (z ^ (z >>> 16)) >>> 0
      }
      this.a = next()
      this.b = next()
      this.c = next()
      this.d = next()
      for (let i = 0; i < 12; i++) this.nextUint32()
    }
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** One standard normal draw (Box–Muller; the pair's second value is discarded so state stays 4 words). */
  normal(): number {
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  fillNormal(out: Float32Array, std = 1): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      let u = 0
      while (u === 0) u = this.next()
      const v = this.next()
      const r = Math.sqrt(-2 * Math.log(u)) * std
      out[i] = r * Math.cos(2 * Math.PI * v)
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v)
    }
    return out
  }

  shuffle(n: number): Uint32Array {
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = order[i]!
      order[i] = order[j]!
      order[j] = t
    }
    return order
  }

  setState(state: RngState): void {
    ;[this.a, this.b, this.c, this.d] = state.map((v) => v >>> 0) as RngState
  }

  getState(): RngState {
    return [this.a, this.b, this.c, this.d]
  }
}

/** A seeded stream of uniform numbers in [0, 1), for procedural images and test fixtures. */
export function uniformFrom(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}

// The latent for a seed is part of the contract (the studio computes it too): src/shared/seed-latent.ts.
export { latentForSeed }

/** Latents for fixed seeds, one row of `dim` values per seed. */
export function latentsForSeeds(seeds: readonly number[], dim: number): Float32Array {
  const flat = new Float32Array(seeds.length * dim)
  seeds.forEach((s, i) => flat.set(latentForSeed(s, dim), i * dim))
  return flat
}
