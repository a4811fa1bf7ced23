import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { illustration, makeDataset, sprite } from '../../../tools/bench/make-dataset'
import { lastJson, parseScores } from '../../../tools/bench/quality'
import { uniformFrom } from '../../../src/main/trainer/model/rng'

const root = mkdtempSync(join(tmpdir(), 'bench-quality-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('quality bench', () => {
  it("reads the quality meter's JSON and rejects anything but numbers", () => {
    const out = 'Scoring 256 images…\n{"swd": 21.5, "kid": 0.012, "variety": 0.91, "memorisation": 0.8, "count": 256}\n'
    expect(parseScores(out)).toEqual({ swd: 21.5, kid: 0.012, variety: 0.91, memorisation: 0.8, count: 256 })
    expect(() => parseScores('no json here')).toThrow(/no JSON object/)
    expect(() => parseScores('{"swd": 1, "kid": null, "variety": 1, "memorisation": 1, "count": 2}')).toThrow(/"kid" is null/)
    expect(() => parseScores('{"swd": 1, "kid": 1, "variety": 1, "count": 2}')).toThrow(/"memorisation"/)
    expect(lastJson('{"a": 1}\n{broken\n')).toEqual({ a: 1 })
  })

  it('draws the same sprites and illustrations from the same seed, and different ones from others', () => {
    expect(sprite(uniformFrom(7))).toEqual(sprite(uniformFrom(7)))
    expect(sprite(uniformFrom(7))).not.toEqual(sprite(uniformFrom(8)))
    expect(illustration(uniformFrom(3))).toEqual(illustration(uniformFrom(3)))
    const s = sprite(uniformFrom(11))
    const alphas = new Set(Array.from({ length: s.length / 4 }, (_, i) => s[i * 4 + 3]))
    // Palette sprites: fully transparent background, opaque body, nothing in between.
    expect([...alphas].sort((a, b) => a! - b!)).toEqual([0, 255])
    const colours = new Set<string>()
    for (let i = 0; i < s.length; i += 4) if (s[i + 3]) colours.add(`${s[i]},${s[i + 1]},${s[i + 2]}`)
    expect(colours.size).toBeGreaterThanOrEqual(3)
    expect(colours.size).toBeLessThanOrEqual(7)
  })

  it('writes a dataset of transparent PNGs once, deterministically', async () => {
    const a = await makeDataset('sprites', join(root, 'a'), 4, 5)
    const b = await makeDataset('sprites', join(root, 'b'), 4, 5)
    expect(a.resolution).toBe(32)
    const file = 'sprite-0002.png'
    expect(readFileSync(join(a.dir, file))).toEqual(readFileSync(join(b.dir, file)))
    const meta = await sharp(join(a.dir, file)).metadata()
    expect([meta.width, meta.height, meta.channels, meta.hasAlpha]).toEqual([32, 32, 4, true])
    const ill = await makeDataset('illustrations', join(root, 'c'), 2, 5)
    expect((await sharp(join(ill.dir, 'illustration-0001.png')).metadata()).width).toBe(64)
  })
})
