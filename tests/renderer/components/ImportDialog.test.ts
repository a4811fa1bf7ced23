import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { setBridge } from '../../../src/renderer/src/bridge'
import ImportDialog from '../../../src/renderer/src/components/ImportDialog.vue'
import { createMockBridge, type MockBridge } from '../helpers/mockBridge'

let mock: MockBridge

beforeEach(() => {
  vi.useFakeTimers()
  mock = createMockBridge({
    'fs.listDir': ({ path }) =>
      path === '/home/me/art'
        ? { path: '/home/me/art', parent: '/home/me', entries: [{ name: 'old', path: '/home/me/art/old', isDir: true }], imageCount: 7 }
        : { path: '/home/me', parent: '/home', entries: [{ name: 'art', path: '/home/me/art', isDir: true }], imageCount: 0 },
    'datasets.preview': () => ({ images: ['data:image/png;base64,AA', 'data:image/png;base64,BB'], found: 7 })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

async function settle(): Promise<void> {
  await flushPromises()
  await vi.advanceTimersByTimeAsync(600)
  await flushPromises()
}

describe('Import dialog (browser mode)', () => {
  it('browses folders on the studio machine and previews the chosen one, not the starting one', async () => {
    const w = mount(ImportDialog, { props: { initialPath: null, desktop: false }, attachTo: document.body })
    await settle()
    const field = w.find<HTMLInputElement>('#folder-path')
    expect(field.element.value).toBe('/home/me')
    expect(mock.calls['datasets.preview']).not.toHaveBeenCalled()

    await w.findAll('button.entry').find((b) => b.text() === 'art')!.trigger('click')
    await settle()
    expect(field.element.value).toBe('/home/me/art')
    expect(w.text()).toContain('7 images in this folder')
    expect(mock.calls['datasets.preview']).toHaveBeenLastCalledWith({
      source: '/home/me/art',
      preprocess: { resolution: 32, crop: 'center', background: '#ffffff' },
      limit: 12
    })
    expect(w.findAll('[aria-label="Import preview"] img')).toHaveLength(2)
  })

  it('changing the crop mode previews again', async () => {
    const w = mount(ImportDialog, { props: { initialPath: '/home/me/art', desktop: false }, attachTo: document.body })
    await settle()
    const calls = mock.calls['datasets.preview'].mock.calls.length
    await w.find('input[type="radio"][value="pad"]').setValue(true)
    await settle()
    expect(mock.calls['datasets.preview'].mock.calls.length).toBe(calls + 1)
    expect(mock.calls['datasets.preview'].mock.calls.at(-1)![0].preprocess.crop).toBe('pad')
  })

  it('Enter imports the typed folder; Escape closes', async () => {
    const w = mount(ImportDialog, { props: { initialPath: null, desktop: false }, attachTo: document.body })
    await settle()
    await w.find('#folder-path').setValue('/home/me/art')
    await w.find('form').trigger('submit')
    expect(w.emitted('import')![0]).toEqual(['/home/me/art', { resolution: 32, crop: 'center', background: '#ffffff' }])
    await w.find('dialog').trigger('cancel')
    expect(w.emitted('close')).toHaveLength(1)
  })

  it('says what is wrong with a folder that does not exist', async () => {
    mock.handle('fs.listDir', ({ path }) => {
      if (path === '/nope') throw { code: 'not-found', message: 'There is no folder at /nope.' }
      return { path: '/home/me', parent: '/home', entries: [], imageCount: 0 }
    })
    const w = mount(ImportDialog, { props: { initialPath: null, desktop: false }, attachTo: document.body })
    await settle()
    await w.find('#folder-path').setValue('/nope')
    await settle()
    expect(w.find('#folder-path').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('There is no folder at /nope.')
  })
})
