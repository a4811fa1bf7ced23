import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyDirections, parseDirectionRef } from '../../../src/shared/directions'
import { directionStrip, directionsFileName, runDirections, resolveDirection } from '../../../src/main/generate/explore/directions'
import { renderSources } from '../../../src/main/generate/explore/render'
import { deleteDirection, readSavedDirections, renameDirection, saveDirection } from '../../../src/main/generate/explore/saved-directions'
import { latentForSeed, Rng } from '../../../src/main/trainer/model/rng'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun
let lite: TinyRun

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-directions-'))
  run = await makeTinyRun(join(root, 'runs'), { steps: [100, 200] })
  lite = await makeTinyRun(join(root, 'runs'), { overrides: { model: { arch: 'lite', latentDim: 16, gChannels: 8, dChannels: 8 } } })
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

async function pixels(png: Buffer): Promise<Float64Array> {
  return Float64Array.from(await sharp(png).removeAlpha().raw().toBuffer())
}
const meanAbs = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length
function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length
  const ma = a.reduce((s, v) => s + v, 0) / n
  const mb = b.reduce((s, v) => s + v, 0) / n
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb)
    aa += (a[i]! - ma) ** 2
    bb += (b[i]! - mb) ** 2
  }
  return ab / Math.sqrt(aa * bb)
}

describe('principal directions of a run', () => {
  it('are computed once per checkpoint, cached in the run folder, reused, and computed again when the checkpoint differs', async () => {
    const before = tf.memory().numTensors
    const progress: number[] = []
    const t0 = Date.now()
    const first = await runDirections(run.dir, { backend: 'cpu', samples: 1024, count: 10, onProgress: (done) => progress.push(done) })
    const computeMs = Date.now() - t0
    expect(tf.memory().numTensors).toBe(before)
    expect(first).toMatchObject({ cached: false, checkpoint: 'step-000200', step: 200, latentDim: 16, featureDim: 8 * 8 * 16, samples: 1024 })
    expect(first.components).toHaveLength(10)
    expect(first.file).toBe(join(run.dir, 'explore', directionsFileName('step-000200', true)))
    expect(progress.length).toBeGreaterThan(10)
    const shares = first.components.map((c) => c.explained)
    expect([...shares].sort((a, b) => b - a)).toEqual(shares)
    expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.0001)
    expect(shares[0]).toBeGreaterThan(0.02)
    for (const c of first.components) {
      expect(Math.hypot(...c.vector)).toBeCloseTo(1, 4)
      expect(c.sigma).toBeGreaterThan(0.9)
      expect(c.range).toEqual([-c.range[1], c.range[1]])
      expect(c.range[1]).toBeCloseTo(3 * c.sigma, 4)
    }
    const stored = JSON.parse(await fsp.readFile(first.file, 'utf8')) as { formatVersion: number; components: unknown[]; checkpointSha256: string }
    expect(stored.formatVersion).toBe(1)
    expect(stored.components).toHaveLength(16)

    // Again: from the cache, the same numbers, fast, and no progress (nothing computed).
    const t1 = Date.now()
    const again = await runDirections(run.dir, { backend: 'cpu', samples: 1024, count: 4, onProgress: () => progress.push(-1) })
    expect(Date.now() - t1).toBeLessThan(Math.max(200, computeMs / 4))
    expect(again.cached).toBe(true)
    expect(again.components).toEqual(first.components.slice(0, 4))
    expect(progress).not.toContain(-1)
    expect(tf.memory().numTensors).toBe(before)

    // Another checkpoint: its own file, other directions.
    const older = await runDirections(run.dir, { backend: 'cpu', samples: 1024, checkpoint: 'step-000100', count: 3 })
    expect(older).toMatchObject({ cached: false, checkpoint: 'step-000100' })
    expect(older.components[0]!.vector).not.toEqual(first.components[0]!.vector)
    await fsp.access(join(run.dir, 'explore', directionsFileName('step-000100', true)))

    // A cache that does not belong to the checkpoint's weights (its checksum differs) is computed again.
    await fsp.writeFile(first.file, JSON.stringify({ ...stored, checkpointSha256: '0'.repeat(64) }))
    expect((await runDirections(run.dir, { backend: 'cpu', samples: 1024 })).cached).toBe(false)
    await fsp.writeFile(first.file, '{ not json')
    const rewritten = await runDirections(run.dir, { backend: 'cpu', samples: 1024 })
    expect(rewritten.cached).toBe(false)
    expect(rewritten.components).toEqual(first.components)
    expect((await runDirections(run.dir, { backend: 'cpu', samples: 1024, recompute: true })).cached).toBe(false)
    expect(tf.memory().numTensors).toBe(before)

    // A pruned checkpoint's cache goes when the next one is written.
    await fsp.rm(join(run.dir, 'checkpoints', 'step-000100'), { recursive: true })
    await runDirections(run.dir, { backend: 'cpu', samples: 1024, recompute: true })
    expect((await fsp.readdir(join(run.dir, 'explore'))).sort()).toEqual([directionsFileName('step-000200', true)])
  })

  it('refuses bad requests clearly and can be cancelled without leaking tensors', async () => {
    await expect(runDirections(run.dir, { backend: 'cpu', samples: 1024, count: 0 })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/1 to 16/) })
    await expect(runDirections(run.dir, { backend: 'cpu', samples: 1024, checkpoint: 'step-000999' })).rejects.toMatchObject({ code: 'not-found' })
    await expect(runDirections(join(root, 'nowhere'), { backend: 'cpu' })).rejects.toMatchObject({ code: 'not-found' })
    // (The lite family keeps one constant tensor once it has run: warm it first.)
    await renderSources(lite.dir, [{ seed: 1 }], { backend: 'cpu' })
    const before = tf.memory().numTensors
    const ctrl = new AbortController()
    const cancelled = runDirections(lite.dir, {
      backend: 'cpu',
      samples: 1024,
      signal: ctrl.signal,
      onProgress: (done) => {
        if (done === 5) ctrl.abort()
      }
    })
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' })
    expect(tf.memory().numTensors).toBe(before)
    await expect(fsp.access(join(lite.dir, 'explore', directionsFileName('step-000100', true)))).rejects.toThrow()
  })

  for (const family of ['dcgan', 'lite'] as const) {
    it(`${family}: a direction changes several seeds smoothly (growing with the amount) and consistently (correlated change)`, async () => {
      const r = family === 'dcgan' ? run : lite
      const dirs = await runDirections(r.dir, { backend: 'cpu', samples: 1024, count: 3 })
      expect(dirs.components.length).toBe(3)
      const amounts = [0, 0.5, 1, 1.5, 2, 3]
      const seeds = [1, 2, 3, 4, 5, 6]
      const dim = r.config.model.latentDim
      const changes: Float64Array[] = []
      const ownChanges: Float64Array[] = []
      const rng = new Rng(99)
      for (const seed of seeds) {
        const base = Array.from(latentForSeed(seed, dim))
        const items = amounts.map((amount) => ({ latent: applyDirections(base, [{ vector: dirs.components[0]!.vector, amount }]) }))
        // The control: each seed moved as far along a random direction of its own.
        const own = rng.fillNormal(new Float32Array(dim))
        const len = Math.hypot(...own)
        items.push({ latent: applyDirections(base, [{ vector: Array.from(own, (v) => v / len), amount: 2 }]) })
        const { pngs } = await renderSources(r.dir, items, { backend: 'cpu' })
        const imgs = await Promise.all(pngs.map(pixels))
        const diffs = imgs.slice(0, amounts.length).map((img) => meanAbs(img, imgs[0]!))
        // Smooth: the difference from the original grows with every step of the amount…
        for (let i = 1; i < diffs.length; i++) expect(diffs[i]!).toBeGreaterThan(diffs[i - 1]!)
        expect(diffs.at(-1)!).toBeGreaterThan(3)
        // …and no half-sigma step jumps: each is a small part of the whole change.
        for (let i = 1; i < amounts.length - 1; i++) expect(meanAbs(imgs[i + 1]!, imgs[i]!)).toBeLessThan(diffs.at(-1)! * 0.6)
        changes.push(imgs[4]!.map((v, i) => v - imgs[0]![i]!))
        ownChanges.push(imgs[6]!.map((v, i) => v - imgs[0]![i]!))
      }
      // Consistent: one direction changes different seeds' images alike (their changes correlate),
      // far more than when each seed moves along a direction of its own.
      const meanCorrelation = (xs: Float64Array[]): number => {
        let s = 0
        let n = 0
        for (let i = 0; i < xs.length; i++)
          for (let j = i + 1; j < xs.length; j++) {
            s += correlation(xs[i]!, xs[j]!)
            n++
          }
        return s / n
      }
      const same = meanCorrelation(changes)
      const control = meanCorrelation(ownChanges)
      console.log(`${family}: cross-seed correlation of the change along PC1 ${same.toFixed(3)}; each seed along its own random direction ${control.toFixed(3)}`)
      expect(same).toBeGreaterThan(0.15)
      expect(same).toBeGreaterThan(control + 0.1)
    })
  }
})

describe('saved directions and strips', () => {
  it('save (normalised, flipped), list, rename, delete; names are checked; they travel in the run folder', async () => {
    const dirs = await runDirections(run.dir, { backend: 'cpu', samples: 1024, count: 2 })
    const v = dirs.components[1]!.vector.map((x) => -2 * x)
    let list = await saveDirection(run.dir, { name: 'Wings open', vector: v, scale: 1.5, component: 2, checkpoint: 'step-000200', step: 200 }, { latentDim: 16 })
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ name: 'Wings open', scale: 1.5, component: 2, checkpoint: 'step-000200', step: 200 })
    expect(Math.hypot(...list[0]!.vector)).toBeCloseTo(1, 5)
    expect(list[0]!.vector[0]).toBeCloseTo(-dirs.components[1]!.vector[0]!, 5)
    const onDisk = JSON.parse(await fsp.readFile(join(run.dir, 'directions.json'), 'utf8')) as { formatVersion: number; directions: { name: string }[] }
    expect(onDisk).toMatchObject({ formatVersion: 1, directions: [{ name: 'Wings open' }] })
    await expect(saveDirection(run.dir, { name: 'wings OPEN', vector: v }, { latentDim: 16 })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/already saved/) })
    await expect(saveDirection(run.dir, { name: 'pc3', vector: v }, { latentDim: 16 })).rejects.toMatchObject({ message: expect.stringMatching(/principal component/) })
    await expect(saveDirection(run.dir, { name: 'a+b', vector: v }, { latentDim: 16 })).rejects.toMatchObject({ message: expect.stringMatching(/cannot hold/) })
    await expect(saveDirection(run.dir, { name: 'short', vector: [1, 2] }, { latentDim: 16 })).rejects.toMatchObject({ message: expect.stringMatching(/16 values/) })
    await expect(saveDirection(run.dir, { name: 'zero', vector: Array(16).fill(0) }, { latentDim: 16 })).rejects.toMatchObject({ message: expect.stringMatching(/all zeros/) })
    list = await saveDirection(run.dir, { name: 'mix', vector: Array(16).fill(1) }, { latentDim: 16 })
    list = await renameDirection(run.dir, 'wings open', 'Wings')
    expect(list.map((d) => d.name)).toEqual(['Wings', 'mix'])
    await expect(renameDirection(run.dir, 'Wings', 'MIX')).rejects.toMatchObject({ code: 'bad-input' })
    await expect(deleteDirection(run.dir, 'nothing')).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/saved: Wings, mix/) })
    list = await deleteDirection(run.dir, 'mix')
    expect(await readSavedDirections(run.dir)).toEqual(list)

    // A saved direction resolves with its scale; a component by number; unknown ones clearly.
    const saved = await resolveDirection(run.dir, parseDirectionRef('wings'), { backend: 'cpu', samples: 1024 })
    expect(saved.vector[3]).toBeCloseTo(1.5 * list[0]!.vector[3]!, 6)
    const pc = await resolveDirection(run.dir, parseDirectionRef('PC2'), { backend: 'cpu', samples: 1024 })
    expect(pc).toMatchObject({ label: 'PC2', component: 2, vector: dirs.components[1]!.vector })
    await expect(resolveDirection(run.dir, parseDirectionRef('17'), { backend: 'cpu', samples: 1024 })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(resolveDirection(run.dir, parseDirectionRef('nope'), { backend: 'cpu', samples: 1024 })).rejects.toMatchObject({ code: 'not-found' })
  })

  it('a strip: amount 0 is the seed’s own image, the others move along the direction', async () => {
    const strip = await directionStrip(run.dir, { backend: 'cpu', samples: 1024, center: { seed: 4 }, direction: { component: 1 }, amounts: [-2, 0, 2] })
    expect(strip.images.map((i) => i.amount)).toEqual([-2, 0, 2])
    const own = await renderSources(run.dir, [{ seed: 4 }], { backend: 'cpu' })
    expect((await pixels(strip.images[1]!.png)).every((v, i, a) => v === a[i])).toBe(true)
    expect(meanAbs(await pixels(strip.images[1]!.png), await pixels(own.pngs[0]!))).toBe(0)
    expect(meanAbs(await pixels(strip.images[0]!.png), await pixels(strip.images[2]!.png))).toBeGreaterThan(1)
    await expect(directionStrip(run.dir, { backend: 'cpu', samples: 1024, center: { seed: 4 }, direction: { component: 1 }, amounts: [] })).rejects.toMatchObject({ code: 'bad-input' })
  })
})
