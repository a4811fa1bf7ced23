import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import { parseKeyframes } from '../../../src/main/cli/commands/walk'
import { addToCollection, writeFavorites } from '../../../src/main/generate/favorites'
import { generateImages } from '../../../src/main/generate/images'
import { ease, EASINGS, keyframedLatents } from '../../../src/main/generate/latent'
import { readPngText } from '../../../src/main/generate/png-text'
import { latentWalk, walkKeyframes } from '../../../src/main/generate/walk'
import { latentForSeed } from '../../../src/main/trainer/model/rng'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun
const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return Math.sqrt(s)
}
const raw = (p: string | Buffer): Promise<Buffer> => sharp(p).removeAlpha().raw().toBuffer()

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false })
  return { code, out, err }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-keywalk-'))
  run = await makeTinyRun(join(root, 'runs'))
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('keyframed latents', () => {
  const dim = 32
  const keys = [1, 2, 3].map((s) => latentForSeed(s, dim))
  const frame = (z: Float32Array, i: number): Float32Array => z.subarray(i * dim, (i + 1) * dim)

  it('every easing meets both ends; they differ in between', () => {
    for (const e of EASINGS) {
      expect(ease(e, 0)).toBeCloseTo(0, 12)
      expect(ease(e, 1)).toBeCloseTo(1, 12)
    }
    expect(ease('ease-in', 0.5)).toBeLessThan(0.5)
    expect(ease('ease-out', 0.5)).toBeGreaterThan(0.5)
    expect(ease('linear', 0.3)).toBe(0.3)
  })

  it('keyframes land at their times in proportion to the segment durations', () => {
    // durations 2 : 1 : 1 over 16 frames: keyframes at frames 0, 8, 12
    const z = keyframedLatents(keys, [2, 1, 1], ['linear', 'ease-in-out', 'ease-in-out'], 16, 1)
    expect(dist(frame(z, 0), keys[0]!)).toBeLessThan(1e-5)
    expect(dist(frame(z, 8), keys[1]!)).toBeLessThan(1e-5)
    expect(dist(frame(z, 12), keys[2]!)).toBeLessThan(1e-5)
  })

  it('loops without a jump: the step from the last frame back to the first is no bigger than the steps inside the loop', () => {
    for (const easings of [['ease-in-out', 'ease-in-out', 'ease-in-out'], ['linear', 'linear', 'linear'], ['ease-in', 'linear', 'ease-out']] as const) {
      const frames = 48
      const z = keyframedLatents(keys, [1, 2, 1.5], [...easings], frames, 1)
      const steps = Array.from({ length: frames - 1 }, (_, i) => dist(frame(z, i), frame(z, i + 1)))
      const wrap = dist(frame(z, frames - 1), frame(z, 0))
      expect(wrap).toBeLessThanOrEqual(Math.max(...steps) + 1e-6)
      expect(wrap).toBeGreaterThan(0)
    }
  })

  it('durations: given ones are kept, the others share what is left; bad plans are refused', () => {
    expect(walkKeyframes({ keyframes: [{ seed: 1, seconds: 2 }, { seed: 2 }, { seed: 3 }], seconds: 6 }).durations).toEqual([2, 2, 2])
    expect(walkKeyframes({ keyframes: [{ seed: 1, seconds: 3 }, { seed: 2 }] }).durations).toEqual([3, 3])
    expect(walkKeyframes({ seeds: [1, 2, 3, 4] }).durations).toEqual([1, 1, 1, 1])
    expect(() => walkKeyframes({ keyframes: [{ seed: 1, seconds: 5 }, { seed: 2 }], seconds: 4 })).toThrow(/leave no time/)
    expect(() => walkKeyframes({ seeds: [1, 2], keyframes: [{ seed: 1 }, { seed: 2 }] })).toThrow(/not both/)
    expect(() => walkKeyframes({ keyframes: [{ seed: 1 }, { seed: 2, latent: [1] }] })).toThrow(/a seed or a latent/)
  })
})

describe('keyframed walks', () => {
  it('PNG frames: each keyframe (seed or latent) shows at its time; the metadata names durations and easings', async () => {
    const latent = Array.from(latentForSeed(99, 16), (v) => v * 0.7)
    const out = join(root, 'kf')
    const r = await latentWalk(run.dir, {
      keyframes: [{ seed: 5, seconds: 1, easing: 'linear' }, { latent, seconds: 0.5 }, { seed: 6, seconds: 0.5, easing: 'ease-out' }],
      fps: 8,
      format: 'png',
      out,
      backend: 'cpu'
    })
    expect(r.frames).toBe(16)
    const seeds = await generateImages(run.dir, { seeds: [5, 6], outDir: null, backend: 'cpu' })
    expect((await raw(join(out, 'frame-0000.png'))).equals(await raw(seeds.images[0]!.png!))).toBe(true)
    expect((await raw(join(out, 'frame-0012.png'))).equals(await raw(seeds.images[1]!.png!))).toBe(true)
    expect((await raw(join(out, 'frame-0008.png'))).equals(await raw(join(out, 'frame-0007.png')))).toBe(false)
    expect(readPngText(await fsp.readFile(join(out, 'frame-0003.png')))).toMatchObject({ seeds: '5,z,6', durations: '1,0.5,0.5', easings: 'linear,ease-in-out,ease-out' })
  })

  it('CLI: --keyframes with timings, --favorites and --collection as keyframes; bad keyframes are one line', async () => {
    expect(parseKeyframes('3@2, 17~linear,42@0.5~ease-in')).toEqual([{ seed: 3, seconds: 2 }, { seed: 17, easing: 'linear' }, { seed: 42, seconds: 0.5, easing: 'ease-in' }])
    const gif = join(root, 'kf.gif')
    const a = await cli(['walk', run.dir, '--keyframes', '3@1,17@0.5~linear', '--fps', '10', '--out', gif, '--backend', 'cpu'])
    expect(a).toMatchObject({ code: 0, err: [] })
    const meta = await sharp(gif).metadata()
    expect(meta.pages).toBe(15)
    expect(meta.delay!.reduce((x, y) => x + y, 0)).toBe(1500)

    await writeFavorites(run.dir, [8, 9, 10])
    const fav = await cli(['walk', run.dir, '--favorites', '--seconds', '1', '--fps', '6', '--out', join(root, 'fav.webp'), '--backend', 'cpu'])
    expect(fav.out.at(-1)).toMatch(/keyframes 8, 9, 10/)
    await addToCollection(run.dir, 'Path', [{ seed: 4 }, { latent: Array(16).fill(0.3) }], { latentDim: 16, create: true })
    const col = await cli(['walk', run.dir, '--collection', 'path', '--seconds', '1', '--fps', '6', '--format', 'png', '--out', join(root, 'col'), '--backend', 'cpu'])
    expect(col.code).toBe(0)
    expect(col.out.at(-1)).toMatch(/keyframes 4, latent/)

    const bad: [string[], RegExp][] = [
      [['--keyframes', '3@x,4'], /is not SEED\[\+DIRECTION:AMOUNT\]\[@SECONDS\]\[~EASING\]/],
      [['--keyframes', '3~bouncy,4'], /--keyframes easing must be one of/],
      [['--seeds', '1,2', '--favorites'], /one way/],
      [['--collection', 'Nope'], /no collection "Nope"/],
      [['--keyframes', '1@5,2', '--seconds', '4'], /leave no time/],
      [['--seeds', '1,2', '--easing', 'wobble'], /--easing must be one of/]
    ]
    for (const [args, message] of bad) {
      const r = await cli(['walk', run.dir, ...args, '--backend', 'cpu'])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(message)
    }
  })
})
