import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import type { CliIo } from '../../../src/main/cli/io'

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), tty: false }
}

let home: string
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'gs-cli-'))
  process.env.GAN_STUDIO_HOME = home
})

describe('gan-studio CLI: bad input is one clear line and exit code 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /Usage: gan-studio <command>/],
    ['unknown command', ['trian'], /unknown command "trian"/],
    ['missing folder', ['train', '/definitely/not/here'], /No folder at \/definitely\/not\/here/],
    ['unknown flag', ['train', '.', '--stepz', '3'], /Unknown option '--stepz'/],
    ['number out of range', ['train', '.', '--steps', '0'], /--steps must be between 1 and 10000000 \(got 0\)/],
    ['not a number', ['train', '.', '--batch', 'lots'], /--batch must be a whole number \(got "lots"\)/],
    ['bad resolution', ['train', '.', '--resolution', '48'], /--resolution must be one of 32, 64, 128, 256 \(got "48"\)/],
    ['bad backend', ['train', '.', '--backend', 'cuda'], /--backend must be one of auto, tensorflow, webgpu, wasm, cpu/],
    ['resume of a folder that is not a run', ['resume', '/tmp'], /No run at \/tmp/],
    ['resume with a bad step count', ['resume', '/tmp', '--steps=-5'], /--steps must be between 1/]
  ]
  it.each(cases)('%s', async (_name, argv, message) => {
    const io = capture()
    const code = await main(argv, io)
    expect(code).toBe(2)
    const text = io.errors.join('\n') + io.lines.join('\n')
    expect(text).toMatch(message)
    expect(text).not.toMatch(/\n\s+at /) // no stack trace
    if (argv.length) expect(io.errors).toHaveLength(1)
  })

  it('says clearly when a folder has no usable images', async () => {
    const dir = join(home, 'empty-ish')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'notes.txt'), 'hello')
    await writeFile(join(dir, 'broken.png'), 'not really a png')
    const io = capture()
    expect(await main(['train', dir, '--steps', '1'], io)).toBe(2)
    expect(io.errors.join('\n')).toMatch(/No usable images/)
  })

  it('reads settings from --config and lets flags override them', async () => {
    const { configFromFlags } = await import('../../../src/main/cli/commands/train')
    const file = join(home, 'cfg.json')
    await writeFile(file, JSON.stringify({ steps: 123, batchSize: 8, loss: { type: 'hinge' } }))
    const { config } = await configFromFlags([home, '--config', file, '--batch', '16'])
    expect(config.steps).toBe(123)
    expect(config.batchSize).toBe(16)
    expect(config.loss.type).toBe('hinge')
    await writeFile(file, '{"steps": "many"}')
    await expect(configFromFlags([home, '--config', file])).rejects.toThrow(/Invalid settings: steps/)
  })

  it('gives a new run the recommended recipe for its size, under what the config file and flags say', async () => {
    const { configFromFlags, validConfig } = await import('../../../src/main/cli/commands/train')
    const small = await configFromFlags([home, '--resolution', '32', '--crop', 'pad'])
    expect(small.config.model).toMatchObject({ arch: 'dcgan', gChannels: 32, dChannels: 32, latentDim: 64, dNorm: 'batch', gNorm: 'channel', gUpsample: 'nearest-rgb' })
    expect(small.config.augment).toMatchObject({ xflip: true, translation: true })
    const mid = await configFromFlags([home, '--resolution', '64'])
    expect(mid.config.model).toMatchObject({ arch: 'dcgan', gUpsample: 'nearest' })
    expect(mid.config.loss.modeSeeking).toBe(1)
    const big = await configFromFlags([home, '--resolution', '128'])
    expect(big.config.model.arch).toBe('lite')
    expect(big.config.loss.type).toBe('hinge')
    // A folder of a few hundred images also gets cutout; an explicit choice is kept.
    expect(validConfig(small.chosen, 100).augment.cutout).toBe(true)
    expect(validConfig(small.chosen, 5000).augment.cutout).toBe(false)
    // A family named without its settings gets that family's recipe, not the size's default's.
    const liteFile = join(home, 'cfg-lite.json')
    await writeFile(liteFile, JSON.stringify({ model: { arch: 'lite' } }))
    const lite64 = await configFromFlags([home, '--resolution', '64', '--config', liteFile])
    expect(lite64.config.model).toMatchObject({ arch: 'lite', gChannels: 16, dChannels: 32, gNorm: 'none', dNorm: 'none' })
    expect(lite64.config.loss).toMatchObject({ type: 'hinge', modeSeeking: 0 })
    const file = join(home, 'cfg-model.json')
    await writeFile(file, JSON.stringify({ model: { arch: 'dcgan', gChannels: 64 }, augment: { cutout: false } }))
    const mine = await configFromFlags([home, '--resolution', '64', '--config', file])
    expect(mine.config.model).toMatchObject({ arch: 'dcgan', gChannels: 64 })
    expect(validConfig(mine.chosen, 100).augment.cutout).toBe(false)
  })

  it('lists runs in a table, and says when there are none', async () => {
    const io = capture()
    expect(await main(['runs', join(home, 'nothing-here')], io)).toBe(0)
    expect(io.lines[0]).toMatch(/No runs in/)
  })
})
