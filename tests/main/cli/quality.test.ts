import { mkdtemp, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { main } from '../../../src/main/cli/index'
import type { CliIo } from '../../../src/main/cli/io'
import { importDataset } from '../../../src/main/trainer/data/dataset'
import { Rng } from '../../../src/main/trainer/model/rng'
import { appendMetrics, createRun } from '../../../src/main/trainer/run/runs'
import { makeImageFolder } from '../../helpers/images'

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), tty: false }
}

let home: string
let dataset: string
let noise: string
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'gs-quality-cli-'))
  process.env.GAN_STUDIO_HOME = home
  dataset = join(home, 'art')
  await makeImageFolder(dataset, { count: 20, formats: ['png'], seed: 3 })
  noise = join(home, 'noise')
  await mkdir(noise)
  const rng = new Rng(5)
  for (let i = 0; i < 12; i++) {
    const px = Buffer.from(Array.from({ length: 32 * 32 * 3 }, () => Math.floor(rng.next() * 256)))
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(noise, `n${i}.png`))
  }
})

async function score(images: string): Promise<{ swd: number; kid: number; variety: number; memorisation: number; count: number }> {
  const io = capture()
  expect(await main(['quality', '--images', images, '--dataset', dataset, '--resolution', '32', '--crop', 'pad', '--json'], io)).toBe(0)
  expect(io.lines).toHaveLength(1)
  return JSON.parse(io.lines[0]!)
}

describe('gan-studio quality', () => {
  it('prints one JSON object: the dataset against itself is a copy, random noise is far', async () => {
    const self = await score(dataset)
    expect(Object.keys(self).sort()).toEqual(['count', 'kid', 'memorisation', 'swd', 'variety'])
    expect(self.count).toBe(20)
    expect(self.memorisation).toBe(0)
    expect(self.variety).toBeCloseTo(1, 1)
    const far = await score(noise)
    expect(far.count).toBe(12)
    expect(far.memorisation).toBeGreaterThan(1)
    expect(far.swd).toBeGreaterThan(self.swd)
    expect(far.kid).toBeGreaterThan(self.kid)
  })

  it('prints a readable table without --json', async () => {
    const io = capture()
    expect(await main(['quality', '--images', noise, '--dataset', dataset, '--resolution', '32', '--crop', 'crop'], io)).toBe(0)
    const text = io.lines.join('\n')
    expect(text).toMatch(/Scored 12 images .* against 20 training images \(32 px, center\)/)
    for (const name of ['SWD', 'KID', 'variety', 'memorisation']) expect(text).toMatch(new RegExp(`^  ${name} +-?\\d+\\.\\d+`, 'm'))
  })

  const bad: [string, string[], RegExp][] = [
    ['no --images', ['--dataset', '/tmp', '--resolution', '32'], /--images, --dataset and --resolution are required/],
    ['a missing folder', ['--images', '/definitely/not/here', '--dataset', '/tmp', '--resolution', '32'], /No folder at \/definitely\/not\/here/],
    ['a bad crop', ['--images', '/tmp', '--dataset', '/tmp', '--resolution', '32', '--crop', 'zoom'], /--crop must be one of/],
    ['a bad resolution', ['--images', '/tmp', '--dataset', '/tmp', '--resolution', '48'], /--resolution must be one of/]
  ]
  it.each(bad)('refuses %s with one line and exit code 2', async (_name, args, message) => {
    const io = capture()
    expect(await main(['quality', ...args], io)).toBe(2)
    expect(io.errors).toHaveLength(1)
    expect(io.errors[0]).toMatch(message)
  })

  it('refuses a folder with fewer than two images', async () => {
    const one = join(home, 'one')
    await makeImageFolder(one, { count: 1, formats: ['png'], seed: 9 })
    const io = capture()
    expect(await main(['quality', '--images', one, '--dataset', dataset, '--resolution', '32'], io)).toBe(2)
    expect(io.errors[0]).toMatch(/only one usable image; scoring needs at least two/)
  })
})

describe('gan-studio runs', () => {
  it('shows the newest SWD and variety of each run, and a dash for runs without any', async () => {
    const runsDir = join(home, 'runs')
    const config = RunConfigSchema.parse({ source: dataset, name: 'measured' })
    const ds = await importDataset({ source: dataset, preprocess: config.preprocess, datasetsDir: join(home, 'datasets') })
    const { dir } = await createRun({ runsDir, config, dataset: ds })
    const base = { t: 1, imagesSeen: 32, gLoss: 1, dLoss: 1, dReal: 0, dFake: 0, imagesPerSec: 10 }
    await appendMetrics(dir, [
      { ...base, step: 500, quality: { swd: 40.25, kid: 0.5, variety: 0.41, memorisation: 1.2, count: 64 } },
      { ...base, step: 1000, quality: { swd: 21.04, kid: 0.2, variety: 0.93, memorisation: 1.1, count: 64 } },
      { ...base, step: 1010 }
    ])
    await createRun({ runsDir, config: { ...config, name: 'fresh' }, dataset: ds })
    const io = capture()
    expect(await main(['runs', runsDir], io)).toBe(0)
    expect(io.lines[0]).toMatch(/SWD +VARIETY/)
    expect(io.lines.find((l) => l.startsWith('measured'))).toMatch(/ 21\.0 +0\.93 /)
    expect(io.lines.find((l) => l.startsWith('fresh'))).toMatch(/ - +- /)
  })
})
