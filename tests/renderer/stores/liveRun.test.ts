import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { Results } from '@shared/contract'
import { StudioError } from '@shared/errors'
import type { MetricRecord } from '@shared/runs'
import { setBridge } from '../../../src/renderer/src/bridge'
import { useLiveRunStore } from '../../../src/renderer/src/stores/liveRun'
import { createMockBridge, deferred, metric, runJson, runSummary, type MockBridge } from '../helpers/mockBridge'

let mock: MockBridge

function detail(over: Partial<Results['runs.get']> = {}): Results['runs.get'] {
  return {
    run: runJson(),
    summary: runSummary({ step: 30 }),
    samples: [{ runId: 'run-1', step: 20, file: 'samples/step-000020.png' }],
    ...over
  }
}

beforeEach(() => {
  mock = createMockBridge({
    'runs.get': () => detail(),
    'runs.metrics': () => [metric(10), metric(20), metric(30)]
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})

const progress = (step: number, m: MetricRecord | null = metric(step)) => ({
  runId: 'run-1',
  step,
  steps: 1000,
  imagesPerSec: 42,
  etaMs: 5000,
  metric: m
})

describe('live run store', () => {
  it('subscribes to every train.* event before loading the snapshot', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    const firstLoad = Math.min(mock.log.indexOf('call:runs.get'), mock.log.indexOf('call:runs.metrics'))
    for (const e of ['train.progress', 'train.sample', 'train.status', 'train.log']) {
      expect(mock.log.indexOf(`on:${e}`), e).toBeGreaterThan(-1)
      expect(mock.log.indexOf(`on:${e}`), e).toBeLessThan(firstLoad)
    }
  })

  it('loads metrics, samples and status from the snapshot', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    expect(live.buffer.length).toBe(3)
    expect(live.buffer.lastStep).toBe(30)
    expect(live.samples.map((s) => s.step)).toEqual([20])
    expect(live.status).toBe('running')
    expect(live.sampleUrl(live.samples[0]!)).toBe('studio://home/runs/run-1/samples/step-000020.png')
  })

  it('events that arrive during loading are applied once, after the snapshot, without duplicates', async () => {
    const metrics = deferred<MetricRecord[]>()
    mock.handle('runs.metrics', () => metrics.promise)
    const live = useLiveRunStore()
    const opening = live.open('run-1')
    // 20 is already in the snapshot (read after it was sent); 40 is new. The server may drop
    // progress events for a slow client, so 30 arrives only in the snapshot.
    mock.emit('train.progress', progress(20))
    mock.emit('train.progress', progress(40))
    mock.emit('train.sample', { runId: 'run-1', step: 40, file: 'samples/step-000040.png' })
    expect(live.buffer.length).toBe(0)
    metrics.resolve([metric(10), metric(20), metric(30)])
    await opening
    expect(Array.from(live.buffer.steps.subarray(0, live.buffer.length))).toEqual([10, 20, 30, 40])
    expect(live.samples.map((s) => s.step)).toEqual([20, 40])
    expect(live.progress?.step).toBe(40)
  })

  it('appends live progress, ignores other runs, and bumps the version for the charts', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    const v = live.metricsVersion
    mock.emit('train.progress', progress(40))
    mock.emit('train.progress', { ...progress(50), runId: 'someone-else' })
    expect(live.buffer.lastStep).toBe(40)
    expect(live.metricsVersion).toBeGreaterThan(v)
    expect(live.progress).toMatchObject({ step: 40, imagesPerSec: 42, etaMs: 5000 })
  })

  it('a run resumed from an older checkpoint rewinds the chart to that step', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    mock.emit('train.progress', progress(20, metric(20, { gLoss: 9 })))
    expect(live.buffer.length).toBe(2)
    expect(live.buffer.raw.gLoss[1]).toBe(9)
  })

  it('status events update the status and error; paused/stopped clear the ETA', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    mock.emit('train.progress', progress(40))
    mock.emit('train.status', { runId: 'run-1', status: 'failed', error: { code: 'crashed', message: 'Out of memory' } })
    expect(live.status).toBe('failed')
    expect(live.runError?.message).toBe('Out of memory')
    expect(live.progress?.etaMs).toBeNull()
  })

  it('keeps log lines for the open run only', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    mock.emit('train.log', { runId: 'run-1', level: 'info', message: 'hello', time: '2025-01-01T00:00:00Z' })
    mock.emit('train.log', { runId: 'other', level: 'info', message: 'nope', time: '2025-01-01T00:00:00Z' })
    expect(live.logs.map((l) => l.message)).toEqual(['hello'])
  })

  it('shows a readable error when the run cannot be opened', async () => {
    mock.handle('runs.get', () => {
      throw new StudioError('not-found', 'There is no run “nope”.')
    })
    const live = useLiveRunStore()
    await live.open('nope')
    expect(live.loadError).toBe('There is no run “nope”.')
    expect(live.loading).toBe(false)
  })

  it('a slow earlier open does not overwrite the run opened after it', async () => {
    const slow = deferred<Results['runs.get']>()
    let first = true
    mock.handle('runs.get', ({ id }) => {
      if (first) {
        first = false
        return slow.promise
      }
      return detail({ run: runJson({ id, name: 'Second' }), summary: runSummary({ id, name: 'Second' }) })
    })
    const live = useLiveRunStore()
    const a = live.open('run-a')
    await live.open('run-b')
    slow.resolve(detail({ run: runJson({ id: 'run-a', name: 'First' }) }))
    await a
    expect(live.runId).toBe('run-b')
    expect(live.run?.name).toBe('Second')
  })

  it('changing the smoothing re-smooths the stored points', async () => {
    const live = useLiveRunStore()
    await live.open('run-1')
    live.smoothing = 0
    await Promise.resolve()
    expect(live.buffer.smooth.gLoss[2]).toBeCloseTo(live.buffer.raw.gLoss[2]!, 12)
  })
})
