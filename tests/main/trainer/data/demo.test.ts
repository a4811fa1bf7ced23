import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StudioError } from '@shared/errors'
import { importDataset, loadDatasetPixels } from '../../../../src/main/trainer/data/dataset'
import { renderDemoImage, writeDemoDataset } from '../../../../src/main/trainer/data/demo'

let root: string
beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-demo-'))
})
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

const pngs = async (dir: string): Promise<string[]> => (await fsp.readdir(dir)).filter((f) => f.endsWith('.png')).sort()

describe('writeDemoDataset', () => {
  it('writes count 64×64 PNGs, byte-for-byte the same every time', async () => {
    const a = await writeDemoDataset(join(root, 'a'), 16)
    const b = await writeDemoDataset(join(root, 'b'), 16)
    expect(a).toBe(join(root, 'a'))
    const files = await pngs(a)
    expect(files).toHaveLength(16)
    expect(await pngs(b)).toEqual(files)
    for (const f of files) expect(Buffer.compare(await fsp.readFile(join(a, f)), await fsp.readFile(join(b, f))), f).toBe(0)
    const meta = await sharp(join(a, files[0]!)).metadata()
    expect([meta.width, meta.height, meta.format]).toEqual([64, 64, 'png'])
  })

  it('does not rewrite an existing set (mtimes stay, so the dataset cache is reused), and repairs a damaged one', async () => {
    const dir = await writeDemoDataset(join(root, 'demo'), 8)
    const file = join(dir, (await pngs(dir))[3]!)
    const mtime = (await fsp.stat(file)).mtimeMs
    await writeDemoDataset(dir, 8)
    expect((await fsp.stat(file)).mtimeMs).toBe(mtime)

    await fsp.rm(file)
    await writeDemoDataset(dir, 8)
    expect(await pngs(dir)).toHaveLength(8)

    await writeDemoDataset(dir, 5)
    expect(await pngs(dir)).toHaveLength(5)
  })

  it('is visually varied and has structure a GAN can learn: light sky above, darker ground below', () => {
    const n = 60
    const images = Array.from({ length: n }, (_, i) => renderDemoImage(i))
    const mean = (img: Uint8Array, y0: number, y1: number): number => {
      let s = 0
      for (let i = y0 * 64 * 3; i < y1 * 64 * 3; i++) s += img[i]!
      return s / ((y1 - y0) * 64 * 3)
    }
    const top = images.map((img) => mean(img, 0, 16))
    const bottom = images.map((img) => mean(img, 52, 64))
    // Nearly every picture is brighter on top (night skies are dark, but their hills darker still).
    expect(top.filter((t, i) => t > bottom[i]!).length).toBeGreaterThanOrEqual(n * 0.9)
    // Varied: brightness spreads widely, and no two images are near-identical.
    expect(Math.max(...top) - Math.min(...top)).toBeGreaterThan(100)
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        let diff = 0
        for (let k = 0; k < images[i]!.length; k += 7) diff += Math.abs(images[i]![k]! - images[j]![k]!)
        expect(diff / (images[i]!.length / 7), `images ${i} and ${j}`).toBeGreaterThan(4)
      }
  })

  it('imports as a dataset at 32 px with every image usable', async () => {
    const dir = await writeDemoDataset(join(root, 'demo'), 12)
    const ds = await importDataset({ source: dir, preprocess: { resolution: 32, crop: 'center', background: '#ffffff' }, datasetsDir: join(root, 'datasets') })
    expect(ds.count).toBe(12)
    expect(ds.skipped).toEqual([])
    expect((await loadDatasetPixels(ds, join(root, 'datasets'))).length).toBe(12 * 32 * 32 * 3)
  })

  it('refuses a nonsensical count', async () => {
    await expect(writeDemoDataset(join(root, 'x'), 0)).rejects.toBeInstanceOf(StudioError)
    await expect(writeDemoDataset(join(root, 'x'), 2.5)).rejects.toThrow(/whole number/)
  })
})
