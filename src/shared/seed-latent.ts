/**
 * The latent vector for one seed: the same numbers in the trainer, the CLI, the studio and the
 * exported HTML page (which embeds this function's source, so it must stay self-contained: no
 * imports, no closures over module state).
 */
export function latentForSeed(seed: number, dim: number): Float32Array {
  let s = seed >>> 0
  const sm = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = sm()
  let b = sm()
  let c = sm()
  let d = sm()
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) u32()
  const out = new Float32Array(dim)
  for (let i = 0; i < dim; i += 2) {
    let u = 0
    while (u === 0) u = u32() / 4294967296
    const v = u32() / 4294967296
    const r = Math.sqrt(-2 * Math.log(u))
    out[i] = r * Math.cos(2 * Math.PI * v)
    if (i + 1 < dim) out[i + 1] = r * Math.sin(2 * Math.PI * v)
  }
  return out
}
