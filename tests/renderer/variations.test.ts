import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { RequestParams } from '@shared/contract'
import { setBridge } from '../../src/renderer/src/bridge'
import GenerateView from '../../src/renderer/src/views/GenerateView.vue'
import { createMockBridge, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, mountView } from './helpers/mount'

let mock: MockBridge
const png = (tag: string): string => `data:image/png;base64,${tag}`

beforeEach(() => {
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'run-a', name: 'Flowers', status: 'completed', step: 500 })],
    'generate.checkpoints': () => [{ name: 'step-000500', step: 500 }],
    'generate.favorites': () => ({ seeds: [] }),
    'generate.images': ({ seeds }) => ({ images: seeds.map((seed) => ({ seed, url: png(`s${seed}`), file: null })), sheet: null, dir: null, checkpoint: 'step-000500', step: 500 }),
    'explore.collections': () => ({ seeds: [], collections: [] }),
    'explore.collection': (p) => ({ seeds: [], collections: [{ name: p.name, createdAt: '', updatedAt: '', items: [] }] }),
    // The centre's first number names it; neighbour i of centre c is [c * 10 + i + 1, …].
    'explore.variations': ({ center, count }) => {
      const c = 'seed' in center ? center.seed : center.latent[0]!
      return {
        center: { latent: [c, 0], image: png(`c${c}`) },
        neighbours: Array.from({ length: count ?? 8 }, (_, i) => ({ latent: [c * 10 + i + 1, 0], image: png(`n${c * 10 + i + 1}`) })),
        checkpoint: 'step-000500',
        step: 500
      }
    }
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  document.body.innerHTML = ''
})

const centreSrc = (w: Awaited<ReturnType<typeof mountView>>['wrapper']): string | undefined => w.find('.variations .centre img').attributes('src')

describe('Variations of a gallery image', () => {
  it('opens on the seed, recentres on a click, steps back, follows the strength, keeps the centre in a collection', async () => {
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await wrapper.find('[aria-label="Variations of seed 3"]').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.variations']).toHaveBeenLastCalledWith({
      id: 'run-a',
      jobId: expect.stringMatching(/^variations-/),
      center: { seed: 3 },
      strength: 0.3,
      count: 8,
      variationSeed: 0,
      truncation: 1
    })
    expect(centreSrc(wrapper)).toBe(png('c3'))
    expect(wrapper.findAll('.neighbours img')).toHaveLength(8)

    await wrapper.find('[aria-label="Make variation 2 the centre"]').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.variations']).toHaveBeenLastCalledWith(expect.objectContaining({ center: { latent: [32, 0] } }))
    expect(centreSrc(wrapper)).toBe(png('c32'))
    await wrapper.find('[aria-label="Make variation 1 the centre"]').trigger('click')
    await flushPromises()
    expect(centreSrc(wrapper)).toBe(png('c321'))
    expect(button(wrapper, /^Back/).text()).toBe('Back (2)')

    await button(wrapper, /^Back/).trigger('click')
    await flushPromises()
    expect(centreSrc(wrapper)).toBe(png('c32'))
    await button(wrapper, /^Back/).trigger('click')
    await flushPromises()
    expect(centreSrc(wrapper)).toBe(png('c3'))
    expect(button(wrapper, /^Back/).attributes('disabled')).toBeDefined()

    const slider = wrapper.find('#variation-strength')
    await slider.setValue('0.7')
    await slider.trigger('change')
    await flushPromises()
    expect((mock.calls['explore.variations'].mock.lastCall![0] as RequestParams<'explore.variations'>).strength).toBe(0.7)

    await wrapper.find('.variations .row button[title^="Keep"]').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.collection']).toHaveBeenLastCalledWith({ id: 'run-a', action: 'add', name: 'Picks', items: [{ latent: [3, 0], label: 'seed 3' }], create: true })
  })

  it('closing the dialog while neighbours render cancels that job; a cancelled job is no error', async () => {
    const { StudioError } = await import('@shared/errors')
    const pending: { jobId: string; fail: (e: Error) => void }[] = []
    mock.handle('explore.variations', (p) => new Promise((_, reject) => pending.push({ jobId: p.jobId!, fail: reject })))
    mock.handle('jobs.cancel', ({ jobId }) => {
      pending.find((j) => j.jobId === jobId)?.fail(new StudioError('cancelled', 'The variations were cancelled.'))
      return { cancelled: true }
    })
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await wrapper.find('[aria-label="Variations of seed 3"]').trigger('click')
    await flushPromises()
    expect(pending).toHaveLength(1)
    await button(wrapper, 'Close').trigger('click')
    await flushPromises()
    expect(mock.calls['jobs.cancel']).toHaveBeenCalledWith({ jobId: pending[0]!.jobId })
    expect(document.body.textContent).not.toContain('Could not make the variations')
  })
})
