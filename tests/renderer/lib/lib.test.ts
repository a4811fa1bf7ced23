import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { errorMessage } from '../../../src/renderer/src/lib/errors'
import { formatDuration, formatInt, formatMetric } from '../../../src/renderer/src/lib/format'
import { imageSrc, runFilePath } from '../../../src/renderer/src/lib/images'
import { fieldErrors } from '../../../src/renderer/src/lib/validation'
import { gridWindow } from '../../../src/renderer/src/lib/virtual'

describe('errorMessage', () => {
  it('keeps the sentence and drops stacks and IPC prefixes', () => {
    expect(errorMessage({ code: 'not-found', message: 'No such run.' })).toBe('No such run.')
    const e = new Error("Error invoking remote method 'studio:request': Error: Disk full\n    at foo (bar.js:1:2)")
    expect(errorMessage(e)).toBe('Disk full')
    expect(errorMessage(null)).toBe('Something went wrong.')
  })
})

describe('fieldErrors', () => {
  it('maps each invalid field to one plain sentence', () => {
    const r = RunConfigSchema.safeParse({ source: '/x', steps: 0, batchSize: 1000, optimizer: { gLr: 0 }, preprocess: { resolution: 48 } })
    expect(r.success).toBe(false)
    const e = fieldErrors(r.error)
    expect(e.steps).toBe('Must be at least 1.')
    expect(e.batchSize).toBe('Must be at most 256.')
    expect(e['optimizer.gLr']).toBe('Must be more than 0.')
    expect(e['preprocess.resolution']).toBe('Must be 32, 64, 128 or 256.')
  })
})

describe('formatting', () => {
  it('formats numbers and durations for people', () => {
    expect(formatInt(1234567)).toBe('1,234,567')
    expect(formatMetric(0.000012)).toBe('1.20e-5')
    expect(formatMetric(1.23456)).toBe('1.235')
    expect(formatDuration(59_000)).toBe('59 s')
    expect(formatDuration(125_000)).toBe('2 min 05 s')
    expect(formatDuration(3 * 3_600_000 + 60_000)).toBe('3 h 01 min')
    expect(formatDuration(null)).toBe('—')
  })
})

describe('image sources', () => {
  it('passes URLs through and resolves studio paths', () => {
    const f = (p: string) => `/files/${p}`
    expect(imageSrc('data:image/png;base64,AA', f)).toBe('data:image/png;base64,AA')
    expect(imageSrc('studio://home/x.png', f)).toBe('studio://home/x.png')
    expect(imageSrc('runs/a/x.png', f)).toBe('/files/runs/a/x.png')
    expect(runFilePath('r1', '/samples/step-000010.png')).toBe('runs/r1/samples/step-000010.png')
  })
})

describe('gridWindow', () => {
  it('renders only the rows on screen plus overscan', () => {
    const w = gridWindow({ total: 50_000, width: 600, cellWidth: 96, rowHeight: 96, gap: 6, scrollTop: 102 * 100, viewportHeight: 400, overscanRows: 1 })
    expect(w.columns).toBe(5)
    expect(w.start).toBe(99 * 5)
    expect(w.end - w.start).toBeLessThanOrEqual(8 * 5)
    expect(w.offsetTop).toBe(99 * 102)
    expect(w.totalHeight).toBe(10_000 * 102 - 6)
  })
  it('handles an empty grid', () => {
    expect(gridWindow({ total: 0, width: 600, cellWidth: 96, rowHeight: 96, gap: 6, scrollTop: 0, viewportHeight: 400 })).toMatchObject({ start: 0, end: 0 })
  })
})
