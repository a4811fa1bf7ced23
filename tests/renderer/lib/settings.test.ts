import { z } from 'zod'
import type * as ConfigModule from '../../../src/shared/config'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { configField, isConfigPath } from '@shared/config-fields'
import { PANEL, SETTINGS } from '../../../src/renderer/src/lib/settings'

/**
 * The settings panel is derived from RunConfigSchema (src/shared/config.ts): each field's label,
 * help, type, bounds, choices and default are the schema's; only layout is written in the panel.
 */

describe('the settings panel', () => {
  it('maps every field to a schema field, with its bounds, type, choices, label and help', () => {
    expect(SETTINGS).toHaveLength(PANEL.length)
    for (const spec of SETTINGS) {
      expect(isConfigPath(spec.path), spec.path).toBe(true)
      const field = configField(spec.path)
      expect(spec.label).toBe(field.title)
      expect(spec.help).toBe(field.description)
      if (spec.kind === 'number') {
        expect(spec.integer).toBe(field.type === 'integer')
        expect(spec.min).toBe(field.minimum)
        expect(spec.max).toBe(field.maximum)
      } else if (spec.kind === 'select') {
        expect(spec.options.map((o) => o.value)).toEqual(field.choices)
      } else if (spec.kind === 'toggle') {
        expect(field.type).toBe('boolean')
      } else {
        expect(field.type).toBe('string')
      }
    }
  })

  it('shows exclusive bounds as words and leaves them out of the input', () => {
    const lr = SETTINGS.find((s) => s.path === 'optimizer.gLr')!
    expect(lr).toMatchObject({ kind: 'number', min: undefined, max: 0.1 })
    expect(lr.hint).toBe('More than 0, at most 0.1 · default 0.0002')
    const beta = SETTINGS.find((s) => s.path === 'optimizer.gBeta1')!
    expect(beta).toMatchObject({ min: 0, max: undefined })
    expect(beta.hint).toBe('0 to less than 1 · default 0.5')
  })
})

describe('a bound changed in the schema', () => {
  afterEach(() => {
    vi.doUnmock('@shared/config')
    vi.resetModules()
  })

  it('shows in the panel', async () => {
    vi.resetModules()
    vi.doMock('@shared/config', async (importOriginal) => {
      const real = await importOriginal<typeof ConfigModule>()
      const batchSize = real.RunConfigSchema.shape.batchSize
      return {
        ...real,
        RunConfigSchema: real.RunConfigSchema.extend({
          batchSize: z.number().int().min(2).max(100).default(8).meta(batchSize.meta()!)
        })
      }
    })
    const panel = await import('../../../src/renderer/src/lib/settings')
    const spec = panel.SETTINGS.find((s) => s.path === 'batchSize')!
    expect(spec).toMatchObject({ kind: 'number', min: 2, max: 100 })
    expect(spec.hint).toBe('2 to 100 images · default 8')
  })
})
