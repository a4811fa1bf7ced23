import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Collection } from '@shared/collections'
import type { RequestParams } from '@shared/contract'
import { setBridge } from '../../src/renderer/src/bridge'
import GenerateView from '../../src/renderer/src/views/GenerateView.vue'
import { createMockBridge, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, mountView } from './helpers/mount'

const png = 'data:image/png;base64,iVBORw0KGgo='
let mock: MockBridge
let stored: Collection[]
let n = 0

/** The main side's collection rules, in memory. */
function apply(p: RequestParams<'explore.collection'>): { seeds: number[]; collections: Collection[] } {
  const now = 'now'
  if (p.action === 'create') stored = [...stored, { name: p.name, createdAt: now, updatedAt: now, items: [] }]
  if (p.action === 'add') {
    if (!stored.some((c) => c.name === p.name)) stored = [...stored, { name: p.name, createdAt: now, updatedAt: now, items: [] }]
    const c = stored.find((o) => o.name === p.name)!
    for (const item of p.items!) c.items.push({ id: `i${n++}`, seed: 'seed' in item ? item.seed : null, latent: 'latent' in item ? item.latent : null, label: item.label ?? '', addedAt: now })
  }
  if (p.action === 'remove') for (const c of stored) c.items = c.items.filter((i) => !p.itemIds!.includes(i.id))
  if (p.action === 'rename') stored = stored.map((c) => (c.name === p.name ? { ...c, name: p.newName! } : c))
  if (p.action === 'delete') stored = stored.filter((c) => c.name !== p.name)
  return { seeds: [], collections: structuredClone(stored) }
}

beforeEach(() => {
  stored = []
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'run-a', name: 'Flowers', status: 'completed', step: 500 })],
    'generate.checkpoints': () => [{ name: 'step-000500', step: 500 }],
    'generate.favorites': () => ({ seeds: [] }),
    'generate.images': ({ seeds }) => ({ images: seeds.map((seed) => ({ seed, url: png, file: null })), sheet: null, dir: null, checkpoint: 'step-000500', step: 500 }),
    'explore.collections': () => ({ seeds: [], collections: structuredClone(stored) }),
    'explore.collection': (p) => apply(p),
    'explore.render': ({ items }) => ({ images: items.map(() => png), checkpoint: 'step-000500', step: 500 }),
    'explore.exportCollection': ({ name }) => ({ dir: `exports/collections/${name.toLowerCase()}/step-000500-psi1.00`, count: 2, checkpoint: 'step-000500', step: 500 })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Collections on the Generate page', () => {
  it('makes a collection, adds gallery images to it, previews, removes, exports', async () => {
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    expect(mock.calls['explore.collections']).toHaveBeenCalledWith({ id: 'run-a' })
    await wrapper.find('#collection-new').setValue('Blue hour')
    await wrapper.find('.collections form').trigger('submit')
    await flushPromises()
    expect((wrapper.find('#collection-pick').element as HTMLSelectElement).value).toBe('Blue hour')

    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await wrapper.find('[aria-label="Add seed 3 to the collection"]').trigger('click')
    await wrapper.find('[aria-label="Add seed 5 to the collection"]').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.collection']).toHaveBeenLastCalledWith({ id: 'run-a', action: 'add', name: 'Blue hour', items: [{ seed: 5 }], create: true })
    expect(wrapper.findAll('.collections .item .label').map((l) => l.text())).toEqual(['#3', '#5'])

    await button(wrapper, 'Show images').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.render']).toHaveBeenLastCalledWith({ id: 'run-a', items: [{ seed: 3 }, { seed: 5 }], truncation: 1 })
    expect(wrapper.findAll('.collections .item img')).toHaveLength(2)

    await wrapper.find('[aria-label="Remove seed 3 from the collection"]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('.collections .item .label').map((l) => l.text())).toEqual(['#5'])

    await button(wrapper, 'Export').trigger('click')
    await flushPromises()
    expect(wrapper.find('.collections [role="status"]').text()).toContain('exports/collections/blue hour/step-000500-psi1.00')
  })

  it('a seed added with no collection yet goes into a new one called Picks', async () => {
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await wrapper.find('[aria-label="Add seed 0 to the collection"]').trigger('click')
    await flushPromises()
    expect(stored.map((c) => c.name)).toEqual(['Picks'])
    expect((wrapper.find('#collection-pick').element as HTMLSelectElement).value).toBe('Picks')
  })

  it('an export shows its progress under its job id and can be cancelled', async () => {
    let fail: ((e: Error) => void) | null = null
    mock.handle('explore.exportCollection', () => new Promise((_, reject) => (fail = reject)))
    mock.handle('jobs.cancel', async () => {
      const { StudioError } = await import('@shared/errors')
      fail?.(new StudioError('cancelled', 'The export was cancelled.'))
      return { cancelled: true }
    })
    stored = [{ name: 'Picks', createdAt: 'now', updatedAt: 'now', items: [{ id: 'a', seed: 1, latent: null, label: '', addedAt: 'now' }] }]
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    await button(wrapper, 'Export').trigger('click')
    await flushPromises()
    const params = mock.calls['explore.exportCollection'].mock.lastCall![0] as RequestParams<'explore.exportCollection'>
    expect(params).toMatchObject({ id: 'run-a', name: 'Picks', jobId: expect.stringMatching(/^collection-/) })
    mock.emit('jobs.progress', { jobId: 'someone-else', kind: 'export', done: 9, total: 9, label: 'Done' })
    mock.emit('jobs.progress', { jobId: params.jobId!, kind: 'export', done: 1, total: 4, label: 'Rendering images' })
    await flushPromises()
    expect(wrapper.find('.collections [role="progressbar"]').attributes('aria-valuetext')).toBe('1 of 4 images')
    await button(wrapper, 'Cancel export').trigger('click')
    await flushPromises()
    expect(mock.calls['jobs.cancel']).toHaveBeenCalledWith({ jobId: params.jobId })
    expect(wrapper.find('.collections [role="progressbar"]').exists()).toBe(false)
    expect(wrapper.find('.collections [role="status"]').text()).toContain('The export was cancelled')
  })
})
