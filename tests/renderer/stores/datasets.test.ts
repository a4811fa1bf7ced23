import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { DatasetSummary } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import { setBridge } from '../../../src/renderer/src/bridge'
import { useAppStore } from '../../../src/renderer/src/stores/app'
import { sameFolder, useDatasetsStore } from '../../../src/renderer/src/stores/datasets'
import { createMockBridge, dataset, deferred, type MockBridge } from '../helpers/mockBridge'

let mock: MockBridge
const prep = { resolution: 32 as const, crop: 'center' as const, background: '#ffffff' }

beforeEach(() => {
  mock = createMockBridge({
    'datasets.list': () => [dataset({ id: 'old', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' })]
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})

describe('datasets store', () => {
  it('subscribes to import progress before it loads the list', async () => {
    const store = useDatasetsStore()
    await store.load()
    expect(mock.log.indexOf('on:datasets.progress')).toBeGreaterThan(-1)
    expect(mock.log.indexOf('on:datasets.progress')).toBeLessThan(mock.log.indexOf('call:datasets.list'))
  })

  it('progress events for the folder being imported update the progress state', async () => {
    const answer = deferred<DatasetSummary>()
    mock.handle('datasets.import', () => answer.promise)
    const store = useDatasetsStore()
    await store.load()
    const importing = store.importFolder('/pics', prep)
    expect(store.importing).toMatchObject({ source: '/pics', phase: 'starting' })

    mock.emit('datasets.progress', { source: '/pics', phase: 'scan', done: 3, total: 0 })
    expect(store.importing).toMatchObject({ phase: 'scan', done: 3, total: 0 })
    mock.emit('datasets.progress', { source: '/pics', phase: 'decode', done: 12, total: 40 })
    expect(store.importing).toMatchObject({ phase: 'decode', done: 12, total: 40 })
    // Another folder's progress is not ours.
    mock.emit('datasets.progress', { source: '/elsewhere', phase: 'cache', done: 1, total: 1 })
    expect(store.importing).toMatchObject({ phase: 'decode', done: 12 })

    answer.resolve(dataset({ id: 'new', source: '/pics', createdAt: '2025-06-01T00:00:00Z', updatedAt: '2025-06-01T00:00:00Z' }))
    const summary = await importing
    expect(summary?.id).toBe('new')
    expect(store.importing).toBeNull()
    expect(store.list.map((d) => d.id)).toEqual(['new', 'old'])
    expect(store.selectedId).toBe('new')
  })

  it('follows progress when the main side names the folder differently (~ expanded, trailing slash)', async () => {
    const answer = deferred<DatasetSummary>()
    mock.handle('datasets.import', () => answer.promise)
    const store = useDatasetsStore()
    const importing = store.importFolder('~/Pictures/moths/', prep)
    mock.emit('datasets.progress', { source: '/home/artist/Pictures/moths', phase: 'decode', done: 2, total: 9 })
    expect(store.importing).toMatchObject({ phase: 'decode', done: 2, total: 9 })
    mock.emit('datasets.progress', { source: '/somewhere/else', phase: 'decode', done: 8, total: 8 })
    expect(store.importing).toMatchObject({ done: 2 })
    answer.resolve(dataset({ id: 'm' }))
    await importing
  })

  it('compares folder paths loosely', () => {
    expect(sameFolder('/a/b/', '/a/b')).toBe(true)
    expect(sameFolder('/a//b/./', '/a/b')).toBe(true)
    expect(sameFolder('/', '/')).toBe(true)
    expect(sameFolder('/a/b', '/a/c')).toBe(false)
  })

  it('an import that fails says why and leaves the list alone', async () => {
    mock.handle('datasets.import', () => {
      throw new StudioError('no-images', 'There are no images in /pics.')
    })
    const store = useDatasetsStore()
    const app = useAppStore()
    await store.load()
    expect(await store.importFolder('/pics', prep)).toBeNull()
    expect(store.importError).toBe('There are no images in /pics.')
    expect(store.importing).toBeNull()
    expect(store.list).toHaveLength(1)
    expect(app.toasts.at(-1)).toMatchObject({ kind: 'error', message: 'Import failed: There are no images in /pics.' })
  })

  it('loads preview-grid pages on demand, once each', async () => {
    mock.handle('datasets.images', ({ offset = 0, limit = 64 }) => ({
      total: 300,
      images: Array.from({ length: Math.min(limit, 300 - offset) }, (_, i) => `data:image/png;base64,${offset + i}`)
    }))
    const store = useDatasetsStore()
    await store.load()
    store.select('old')
    await store.ensureImages('old', 0, 40)
    await store.ensureImages('old', 10, 50)
    expect(mock.calls['datasets.images']).toHaveBeenCalledTimes(1)
    expect(store.grid?.total).toBe(300)
    expect(store.grid?.urls[5]).toBe('data:image/png;base64,5')
    expect(store.grid?.urls[200]).toBeNull()
    await store.ensureImages('old', 190, 260)
    // Indexes 190–259 span the second and third pages.
    expect(mock.calls['datasets.images']).toHaveBeenCalledTimes(3)
    expect(mock.calls['datasets.images']).toHaveBeenCalledWith({ id: 'old', offset: 128, limit: 128 })
    expect(mock.calls['datasets.images']).toHaveBeenCalledWith({ id: 'old', offset: 256, limit: 128 })
    expect(store.grid?.urls[200]).toBe('data:image/png;base64,200')
  })

  it('resolves studio-home paths to file URLs and passes data URLs through', async () => {
    mock.handle('datasets.preview', () => ({ images: ['data:image/png;base64,AA', 'datasets/x/p.png'], found: 2 }))
    const store = useDatasetsStore()
    const res = await store.preview('/pics', prep)
    expect(res).toEqual({ ok: true, value: { found: 2, images: ['data:image/png;base64,AA', 'studio://home/datasets/x/p.png'] } })
  })

  it('folder listing errors come back as readable text for the picker', async () => {
    mock.handle('fs.listDir', () => {
      throw new StudioError('not-found', 'Not found: /nope')
    })
    const store = useDatasetsStore()
    expect(await store.listDir('/nope')).toEqual({ ok: false, error: 'Not found: /nope' })
  })
})
