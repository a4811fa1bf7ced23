import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { StudioError } from '@shared/errors'
import { RunConfigSchema } from '@shared/config'
import { setBridge } from '../../../src/renderer/src/bridge'
import { useAppStore } from '../../../src/renderer/src/stores/app'
import { canResume, useRunsStore } from '../../../src/renderer/src/stores/runs'
import { createMockBridge, deferred, flush, runJson, runSummary, type MockBridge } from '../helpers/mockBridge'

let mock: MockBridge

beforeEach(() => {
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'a', createdAt: '2025-01-01T00:00:00Z' }), runSummary({ id: 'b', createdAt: '2025-02-01T00:00:00Z' })],
    'runs.get': ({ id }) => ({ run: runJson({ id }), summary: runSummary({ id, status: 'paused', resumable: true }), samples: [] })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})

describe('runs store', () => {
  it('subscribes to training events before it loads the run list', async () => {
    const runs = useRunsStore()
    await runs.load()
    const firstCall = mock.log.indexOf('call:runs.list')
    expect(firstCall).toBeGreaterThan(-1)
    for (const event of ['train.progress', 'train.status', 'train.sample']) {
      const at = mock.log.indexOf(`on:${event}`)
      expect(at, event).toBeGreaterThan(-1)
      expect(at, event).toBeLessThan(firstCall)
    }
  })

  it('keeps progress that arrives while the list is loading', async () => {
    const list = deferred<ReturnType<typeof runSummary>[]>()
    mock.handle('runs.list', () => list.promise)
    const runs = useRunsStore()
    const loading = runs.load()
    // The list was read before this event but is answered after it: the event's step must win.
    mock.emit('train.progress', { runId: 'a', step: 20, steps: 1000, imagesPerSec: 30, etaMs: 1000, metric: null })
    mock.emit('train.status', { runId: 'a', status: 'paused', error: null })
    list.resolve([runSummary({ id: 'a', step: 10, status: 'running' })])
    await loading
    expect(runs.list[0]!.step).toBe(20)
    expect(runs.list[0]!.status).toBe('paused')
  })

  it('sorts newest first and updates steps from progress events', async () => {
    const runs = useRunsStore()
    await runs.load()
    expect(runs.list.map((r) => r.id)).toEqual(['b', 'a'])
    mock.emit('train.progress', { runId: 'a', step: 120, steps: 1000, imagesPerSec: 30, etaMs: 1000, metric: null })
    expect(runs.list.find((r) => r.id === 'a')!.step).toBe(120)
  })

  it('pause waits for the status event before clearing its pending state', async () => {
    mock.handle('runs.pause', ({ id }) => runSummary({ id, status: 'running' }))
    const runs = useRunsStore()
    await runs.load()
    await runs.pause('a')
    expect(runs.pending.a).toBe('pause')
    mock.emit('train.status', { runId: 'a', status: 'paused', error: null })
    expect(runs.pending.a).toBeUndefined()
    expect(runs.list.find((r) => r.id === 'a')!.status).toBe('paused')
  })

  it('a failed run is fetched again so it can show as resumable, and the failure is shown', async () => {
    const runs = useRunsStore()
    const app = useAppStore()
    await runs.load()
    mock.emit('train.status', { runId: 'a', status: 'failed', error: { code: 'crashed', message: 'The trainer ran out of memory.' } })
    await flush()
    expect(mock.calls['runs.get']).toHaveBeenCalledWith({ id: 'a' })
    expect(app.toasts.some((t) => t.kind === 'error' && t.message.includes('ran out of memory'))).toBe(true)
  })

  it('shows a readable message when a request fails, and no stack', async () => {
    mock.handle('runs.stop', () => {
      throw new StudioError('not-found', 'No run called “a”.')
    })
    const runs = useRunsStore()
    const app = useAppStore()
    await runs.load()
    const result = await runs.stop('a')
    expect(result).toBeNull()
    expect(runs.pending.a).toBeUndefined()
    const toast = app.toasts.at(-1)!
    expect(toast.kind).toBe('error')
    expect(toast.message).toBe('Could not stop the run: No run called “a”.')
    expect(toast.message).not.toMatch(/\bat\s.+:\d+/)
  })

  it('start passes the config and adds the run to the library', async () => {
    mock.handle('runs.start', () => runSummary({ id: 'new', createdAt: '2026-01-01T00:00:00Z' }))
    const runs = useRunsStore()
    await runs.load()
    const config = RunConfigSchema.parse({ source: '/x', steps: 10 })
    const summary = await runs.start(config)
    expect(mock.calls['runs.start']).toHaveBeenCalledWith({ config })
    expect(summary?.id).toBe('new')
    expect(runs.list[0]!.id).toBe('new')
  })

  it('rename and delete update the list', async () => {
    mock.handle('runs.rename', ({ id, name }) => runSummary({ id, name }))
    mock.handle('runs.delete', () => ({ ok: true }))
    const runs = useRunsStore()
    await runs.load()
    expect(await runs.rename('a', 'Night owls')).toBe(true)
    expect(runs.list.find((r) => r.id === 'a')!.name).toBe('Night owls')
    expect(await runs.remove('b')).toBe(true)
    expect(runs.list.map((r) => r.id)).toEqual(['a'])
  })

  it('reloads the list when the connection comes back', async () => {
    let listener: ((s: 'open' | 'closed' | 'connecting' | 'refused') => void) | null = null
    const aware = Object.assign(mock.bridge, {
      connection: 'open' as const,
      onConnection: vi.fn((cb: typeof listener) => {
        listener = cb
        return () => {}
      })
    })
    setBridge(aware)
    setActivePinia(createPinia())
    const runs = useRunsStore()
    await runs.load()
    expect(mock.calls['runs.list']).toHaveBeenCalledTimes(1)
    listener!('closed')
    listener!('open')
    await flush()
    expect(mock.calls['runs.list']).toHaveBeenCalledTimes(2)
  })
})

describe('canResume', () => {
  it('is true for paused runs and for stopped or crashed runs with a checkpoint', () => {
    expect(canResume({ status: 'paused', resumable: false })).toBe(true)
    expect(canResume({ status: 'failed', resumable: true })).toBe(true)
    expect(canResume({ status: 'stopped', resumable: true })).toBe(true)
    expect(canResume({ status: 'failed', resumable: false })).toBe(false)
    expect(canResume({ status: 'completed', resumable: false })).toBe(false)
    expect(canResume({ status: 'running', resumable: false })).toBe(false)
  })
})
