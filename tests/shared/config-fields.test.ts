import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import type * as ConfigModule from '../../src/shared/config'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { RunConfigSchema } from '../../src/shared/config'
import { configField, configFields, getAt, isConfigPath, setAt, type ConfigPath } from '../../src/shared/config-fields'
import { SETTING_FLAGS, configFromFlags, trainHelp, trainUsage } from '../../src/main/cli/commands/train'

/**
 * Every setting bound is written once, in RunConfigSchema; the CLI's flags (here) and the settings
 * panel (tests/renderer/lib/settings.test.ts) are derived from it. These tests check that each flag
 * maps to a schema field with the schema's own bounds, and that a bound changed in the schema
 * reaches the CLI.
 */

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-fields-'))
})

describe('the schema as fields', () => {
  it('reads type, bounds, default and help from the zod schema', () => {
    expect(configField('batchSize')).toMatchObject({ type: 'integer', minimum: 1, maximum: 256, default: 32, title: 'Batch size' })
    expect(configField('optimizer.gLr')).toMatchObject({ type: 'number', exclusiveMinimum: 0, maximum: 0.1, default: 0.0002 })
    expect(configField('optimizer.gBeta1')).toMatchObject({ minimum: 0, exclusiveMaximum: 1 })
    expect(configField('preprocess.resolution')).toMatchObject({ type: 'choice', choices: [32, 64, 128, 256], default: 32 })
    expect(configField('augment.xflip')).toMatchObject({ type: 'boolean', default: true })
    expect(isConfigPath('optimizer.glr')).toBe(false)
    expect(() => configField('optimizer.glr' as ConfigPath)).toThrow(/no setting "optimizer.glr"/)
  })

  it('lists a field for every leaf of the schema, and each default is what the schema fills in', () => {
    const defaults = RunConfigSchema.parse({ source: '/x' })
    const paths = configFields().map((f) => f.path)
    expect(paths).toContain('model.gChannels')
    expect(paths).toContain('ema.decay')
    for (const field of configFields()) if (field.default !== undefined && typeof field.default !== 'object') expect(getAt(defaults, field.path), field.path).toBe(field.default)
  })

  it('types setting paths: a misspelt path does not compile', () => {
    const draft = {}
    setAt(draft, 'optimizer.gLr', 0.001)
    expect(getAt(draft, 'optimizer.gLr')).toBe(0.001)
    // @ts-expect-error -- not a setting: the panel's old silent failure is now a type error
    setAt(draft, 'optimizer.glr', 0.001)
  })
})

describe('the CLI', () => {
  it('maps every setting flag to a schema field', () => {
    for (const f of SETTING_FLAGS) expect(isConfigPath(f.path), f.flag).toBe(true)
    expect(new Set(SETTING_FLAGS.map((f) => f.flag)).size).toBe(SETTING_FLAGS.length)
  })

  it("accepts each integer flag at the schema's bounds and rejects one past them", async () => {
    for (const f of SETTING_FLAGS) {
      const field = configField(f.path)
      if (field.type !== 'integer') continue
      const { config } = await configFromFlags([dir, `--${f.flag}`, String(field.maximum)])
      expect(getAt(config, f.path), f.flag).toBe(field.maximum)
      await expect(configFromFlags([dir, `--${f.flag}`, String(field.maximum! + 1)]), f.flag).rejects.toThrow(
        `--${f.flag} must be between ${field.minimum} and ${field.maximum}`
      )
      await expect(configFromFlags([dir, `--${f.flag}=${field.minimum! - 1}`]), f.flag).rejects.toThrow(`(got ${field.minimum! - 1})`)
    }
  })

  it("offers each choice flag the schema's choices", async () => {
    for (const f of SETTING_FLAGS) {
      const field = configField(f.path)
      if (field.type !== 'choice') continue
      expect(trainUsage()).toContain(`--${f.flag} ${field.choices!.join('|')}`)
      const last = field.choices!.at(-1)!
      expect(getAt((await configFromFlags([dir, `--${f.flag}`, String(last)])).config, f.path)).toBe(last)
    }
  })

  it("prints each flag's help, range and default from the schema", () => {
    const help = trainHelp()
    expect(help).toMatch(/--batch N\s+Images per step\. .*\(1 to 256, default 32\)/)
    expect(help).toMatch(/--seed N\s+.*\(0 to 2,147,483,647, default 1\)/)
  })
})

describe('a bound changed in the schema', () => {
  afterEach(() => {
    vi.doUnmock('../../src/shared/config')
    vi.resetModules()
  })

  it('shows in the CLI', async () => {
    vi.resetModules()
    vi.doMock('../../src/shared/config', async (importOriginal) => {
      const real = await importOriginal<typeof ConfigModule>()
      const batchSize = real.RunConfigSchema.shape.batchSize
      return {
        ...real,
        RunConfigSchema: real.RunConfigSchema.extend({
          batchSize: z.number().int().min(2).max(100).default(8).meta(batchSize.meta()!)
        })
      }
    })
    const cli = await import('../../src/main/cli/commands/train')
    expect(cli.trainHelp()).toMatch(/--batch N\s+.*\(2 to 100, default 8\)/)
    await expect(cli.configFromFlags([dir, '--batch', '101'])).rejects.toThrow('--batch must be between 2 and 100 (got 101)')
    await expect(cli.configFromFlags([dir, '--batch', '1'])).rejects.toThrow('--batch must be between 2 and 100 (got 1)')
    expect((await cli.configFromFlags([dir, '--batch', '100'])).config.batchSize).toBe(100)
    expect((await cli.configFromFlags([dir])).config.batchSize).toBe(8)
  })
})
