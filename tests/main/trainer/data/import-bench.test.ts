import { spawnSync } from 'node:child_process'
import { existsSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBenchJpegs, runImportBench } from '../../../../src/main/bench/import'
import { importDataset, loadDatasetPixels } from '../../../../src/main/trainer/data/dataset'
import { makeImageFolder } from '../../../helpers/images'

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const hasPillow = spawnSync(python, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0
const script = fileURLToPath(new URL('../../../../scripts/bench/pil_import.py', import.meta.url))

let root: string
beforeAll(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-bench-'))
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('import benchmark', () => {
  it('generates large photo-like JPEGs once and reuses them', async () => {
    const dir = join(root, 'work', 'jpegs-2')
    await ensureBenchJpegs(dir, 2)
    const files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.jpg')).sort()
    expect(files).toHaveLength(2)
    const meta = await sharp(join(dir, files[0]!)).metadata()
    expect([meta.width, meta.height]).toEqual([2000, 1500])
    // Photo-like entropy, not flat colour: hundreds of kB at quality 90.
    expect((await fsp.stat(join(dir, files[0]!))).size).toBeGreaterThan(300_000)
    const stats = await sharp(join(dir, files[0]!)).stats()
    expect(stats.channels[0]!.stdev).toBeGreaterThan(10)
    const mtime = (await fsp.stat(join(dir, files[0]!))).mtimeMs
    await ensureBenchJpegs(dir, 2)
    expect((await fsp.stat(join(dir, files[0]!))).mtimeMs).toBe(mtime)
  })

  it('times our import and, where Pillow is installed, the Pillow script on the same files', async () => {
    const result = await runImportBench({ count: 2, workDir: join(root, 'work'), repeats: 1 })
    expect(result.images).toBe(2)
    expect(result.ours.seconds).toBeGreaterThan(0)
    expect(result.ours.imagesPerSec).toBeCloseTo(2 / result.ours.seconds, 6)
    if (hasPillow) {
      expect(result.pillow).not.toBeNull()
      expect(result.pillow!.imagesPerSec).toBeCloseTo(2 / result.pillow!.seconds, 6)
      expect(result.note).toMatch(/Pillow: a pool of \d+ processes.*Ours: baseline JPEGs decoded at 1\/8 scale/)
    } else {
      expect(result.pillow).toBeNull()
      expect(result.note).toMatch(/python3-pil/)
    }
    const without = await runImportBench({ count: 2, workDir: join(root, 'work'), repeats: 1, pillow: false })
    expect(without.pillow).toBeNull()
  })

  it('says why when Python cannot be run', async () => {
    const result = await runImportBench({ count: 2, workDir: join(root, 'work'), repeats: 1, python: join(root, 'no-python') })
    expect(result.pillow).toBeNull()
    expect(result.note).toMatch(/could not be started/)
  })

  it.skipIf(!hasPillow)('the Pillow baseline does the same work: same images, same order, nearly the same pixels', async () => {
    const folder = await makeImageFolder(join(root, 'same'), { count: 8, formats: ['jpeg', 'png', 'gif', 'webp'], withAlpha: true, sizes: [[300, 200], [150, 260], [64, 64]], duplicates: 1, nested: true })
    const datasetsDir = join(root, 'datasets')
    const ds = await importDataset({ source: folder.dir, preprocess: { resolution: 64, crop: 'center', background: '#ffffff' }, datasetsDir })
    const ours = await loadDatasetPixels(ds, datasetsDir)
    const out = join(root, 'pil.bin')
    const run = spawnSync(python, [script, '--src', folder.dir, '--out', out, '--res', '64', '--workers', '2'], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout.trim()) as { count: number }
    expect(report.count).toBe(ds.count)
    const theirs = await fsp.readFile(out)
    expect(theirs.length).toBe(ours.length)
    for (let n = 0; n < ds.count; n++) {
      let diff = 0
      for (let i = n * 12288; i < (n + 1) * 12288; i++) diff += Math.abs(ours[i]! - theirs[i]!)
      expect(diff / 12288, ds.files[n]).toBeLessThan(6)
    }
  })
})
