import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateImages } from '../../../src/main/generate/images'
import { easeInOut, slerp, walkLatents } from '../../../src/main/generate/latent'
import { readPngText } from '../../../src/main/generate/png-text'
import { frameDelays, latentWalk, type WalkProgress } from '../../../src/main/generate/walk'
import { latentForSeed } from '../../../src/main/trainer/model/rng'
import { makeTinyRun, type TinyRun } from './fixture'

let root: string
let run: TinyRun

async function raw(input: Buffer | string, page = 0): Promise<Buffer> {
  return sharp(input, { page }).removeAlpha().raw().toBuffer()
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!)
  return sum / a.length
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return Math.sqrt(s)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-walk-'))
  run = await makeTinyRun(join(root, 'runs'))
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('latent interpolation', () => {
  it('slerp meets its ends and keeps the length of equal-length vectors', () => {
    const a = latentForSeed(1, 64)
    const b = latentForSeed(2, 64)
    expect(distance(slerp(a, b, 0), a)).toBeLessThan(1e-5)
    expect(distance(slerp(a, b, 1), b)).toBeLessThan(1e-5)
    const unitA = a.map((v) => v / Math.hypot(...a))
    const unitB = b.map((v) => v / Math.hypot(...b))
    expect(Math.hypot(...slerp(unitA, unitB, 0.37))).toBeCloseTo(1, 5)
    expect(easeInOut(0)).toBe(0)
    expect(easeInOut(1)).toBeCloseTo(1, 12)
    expect(easeInOut(0.5)).toBeCloseTo(0.5, 12)
  })

  it('a walk starts on keyframe 0, passes every keyframe and closes the loop', () => {
    const dim = 16
    const frames = 12
    const z = walkLatents([10, 20, 30], frames, dim, 1)
    const frame = (i: number): Float32Array => z.subarray(i * dim, (i + 1) * dim)
    expect(distance(frame(0), latentForSeed(10, dim))).toBeLessThan(1e-5)
    expect(distance(frame(4), latentForSeed(20, dim))).toBeLessThan(1e-5)
    expect(distance(frame(8), latentForSeed(30, dim))).toBeLessThan(1e-5)
    // the last frame heads back to keyframe 0 (the frame after it would be keyframe 0 itself)
    expect(distance(frame(11), latentForSeed(10, dim))).toBeLessThan(distance(frame(11), latentForSeed(30, dim)))
  })

  it('frame delays add up to the walk’s duration on the format’s clock', () => {
    const d = frameDelays(72, 24, 10)
    expect(d).toHaveLength(72)
    expect(d.reduce((a, b) => a + b, 0)).toBe(3000)
    expect(frameDelays(30, 7, 1).reduce((a, b) => a + b, 0)).toBe(4286)
  })
})

describe('latentWalk', () => {
  it('writes an animated GIF with exactly fps × seconds frames that loops', async () => {
    const out = join(root, 'walk.gif')
    const progress: WalkProgress[] = []
    const r = await latentWalk(run.dir, { seeds: [3, 8, 13], seconds: 1.5, fps: 8, format: 'gif', out, backend: 'cpu', onProgress: (p) => progress.push(p) })
    expect(r.frames).toBe(12)
    const meta = await sharp(out).metadata()
    expect(meta.format).toBe('gif')
    expect(meta.pages).toBe(12)
    expect(meta.loop).toBe(0)
    expect(meta.delay?.reduce((a, b) => a + b, 0)).toBe(1500)
    expect(progress.at(-1)).toEqual({ phase: 'done', done: 12, total: 12 })
    // Frame 0 is keyframe 0 (seed 3); GIF quantises colours, so compare loosely.
    const key0 = await generateImages(run.dir, { seeds: [3], outDir: null, backend: 'cpu' })
    const first = await raw(out, 0)
    const key1 = await generateImages(run.dir, { seeds: [8], outDir: null, backend: 'cpu' })
    const toKey0 = meanAbsDiff(first, await raw(key0.images[0]!.png!))
    expect(toKey0).toBeLessThan(12)
    expect(toKey0).toBeLessThan(meanAbsDiff(first, await raw(key1.images[0]!.png!)) / 2)
    const last = await raw(out, 11)
    const middle = await raw(out, 6)
    expect(meanAbsDiff(last, first)).toBeLessThan(meanAbsDiff(middle, first))
  })

  it('writes an animated WebP with the frames asked for, even when every frame is the same (ψ = 0)', async () => {
    const out = join(root, 'walk.webp')
    const r = await latentWalk(run.dir, { seeds: [1, 2], seconds: 1, fps: 10, format: 'webp', truncation: 0, out, backend: 'cpu' })
    expect(r.frames).toBe(10)
    const meta = await sharp(out).metadata()
    expect(meta.format).toBe('webp')
    expect(meta.pages).toBe(10)
    expect(meta.loop).toBe(0)
    expect(meta.delay).toEqual(Array(10).fill(100))
    const gif = join(root, 'still.gif')
    await latentWalk(run.dir, { seeds: [1, 2], seconds: 1, fps: 10, format: 'gif', truncation: 0, out: gif, backend: 'cpu' })
    expect((await sharp(gif).metadata()).pages).toBe(10)
  })

  it('WebP frames are the walk’s images, each encoded as a full frame', async () => {
    const out = join(root, 'check.webp')
    await latentWalk(run.dir, { seeds: [31, 32], seconds: 0.5, fps: 4, format: 'webp', out, backend: 'cpu' })
    const keys = await generateImages(run.dir, { seeds: [31, 32], outDir: null, backend: 'cpu' })
    // Lossy WebP: compare with the same image through the same still encoder.
    const asWebp = async (png: Buffer): Promise<Buffer> => raw(await sharp(png).webp({ quality: 90, smartSubsample: true }).toBuffer())
    expect(meanAbsDiff(await raw(out, 0), await asWebp(keys.images[0]!.png!))).toBeLessThan(0.5)
    expect(meanAbsDiff(await raw(out, 1), await asWebp(keys.images[1]!.png!))).toBeLessThan(0.5)
  })

  it('writes PNG frames; frame 0 is keyframe 0 exactly and the keyframes are hit on time', async () => {
    const out = join(root, 'frames')
    const r = await latentWalk(run.dir, { seeds: [21, 22], seconds: 1, fps: 6, format: 'png', truncation: 0.8, out, backend: 'cpu' })
    expect(r.frames).toBe(6)
    const names = (await fsp.readdir(out)).sort()
    expect(names).toEqual(['frame-0000.png', 'frame-0001.png', 'frame-0002.png', 'frame-0003.png', 'frame-0004.png', 'frame-0005.png'])
    const keys = await generateImages(run.dir, { seeds: [21, 22], truncation: 0.8, outDir: null, backend: 'cpu' })
    expect((await raw(join(out, 'frame-0000.png'))).equals(await raw(keys.images[0]!.png!))).toBe(true)
    expect((await raw(join(out, 'frame-0003.png'))).equals(await raw(keys.images[1]!.png!))).toBe(true)
    expect(readPngText(await fsp.readFile(join(out, 'frame-0002.png')))).toMatchObject({ seeds: '21,22', frame: '2', psi: '0.8' })
    // a shorter walk into the same folder leaves only its own frames
    await latentWalk(run.dir, { seeds: [21, 22], seconds: 0.5, fps: 6, format: 'png', out, backend: 'cpu' })
    expect(await fsp.readdir(out)).toHaveLength(3)
  })

  it('refuses a walk with one keyframe or ψ out of range', async () => {
    await expect(latentWalk(run.dir, { seeds: [1], backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' })
    await expect(latentWalk(run.dir, { seeds: [1, 2], truncation: -0.1, backend: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' })
  })
})
