import { describe, expect, it } from 'vitest'
import { parseOptions, UsageError, type Options } from '../../../tools/bench/args'

const parse = (...argv: string[]) => parseOptions(argv) as Options

function usageError(argv: string[]): string {
  try {
    parseOptions(argv)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`)
}

describe('bench arguments', () => {
  it('defaults to the speed tables of every family at 32 and 64 px', () => {
    const o = parse()
    expect(o).toMatchObject({ mode: 'speed', resolutions: [32, 64], families: ['dcgan', 'lite'], widths: ['default'], rounds: 5, batch: 32, threads: null })
    expect(o.maxSpread).toBeCloseTo(0.1, 10)
  })

  it('with --torch covers both widths unless told otherwise', () => {
    expect(parse('--torch').widths).toEqual(['default', 'narrow'])
    const o = parse('--torch', '--widths', 'narrow', '--families', 'lite', '--resolutions', '32', '--rounds', '7', '--max-spread', '15')
    expect(o).toMatchObject({ mode: 'torch', widths: ['narrow'], families: ['lite'], resolutions: [32], rounds: 7 })
    expect(o.maxSpread).toBeCloseTo(0.15, 10)
    expect(o.torchBlasThreads).toBe(1)
    expect(parse('--torch', '--torch-blas-threads', '0').torchBlasThreads).toBe(0)
  })

  it('reads the profile and quality modes and their options', () => {
    expect(parse('--profile').mode).toBe('profile')
    expect(parse('--quality', '--minutes', '0.5', '--work-dir', '/tmp/q')).toMatchObject({ mode: 'quality', minutes: 0.5, workDir: '/tmp/q' })
    expect(parseOptions(['-h'])).toBe('help')
  })

  it('says in one line what is wrong', () => {
    expect(usageError(['--resolutions', '48'])).toBe('--resolutions: "48" is not one of 32, 64, 128, 256')
    expect(usageError(['--families', 'dcgan,stylegan'])).toBe('--families: "stylegan" is not one of dcgan, lite')
    expect(usageError(['--widths', 'wide'])).toBe('--widths: "wide" is not one of default, narrow')
    expect(usageError(['--rounds', '0'])).toBe('--rounds must be a whole number from 1 to 100, got "0"')
    expect(usageError(['--batch', '2.5'])).toBe('--batch must be a whole number from 1 to 256, got "2.5"')
    expect(usageError(['--seconds', 'soon'])).toBe('--seconds must be a number from 0 to 3600, got "soon"')
    expect(usageError(['--minutes', ''])).toBe('--minutes must be a number from 0.05 to 600, got ""')
    expect(usageError(['--torch', '--quality'])).toBe('--torch and --quality cannot be combined: run them one after the other')
    expect(usageError(['--torch', '--backends', 'wasm,webgpu'])).toBe('--torch compares one backend with PyTorch: give one in --backends')
    expect(usageError(['--frobnicate'])).toMatch(/^Unknown option '--frobnicate'/)
    expect(usageError(['extra'])).toMatch(/Unexpected argument 'extra'/)
  })
})
