import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { RequestParams } from '@shared/contract'
import type { DirectionsInfo, SavedDirection } from '@shared/directions'
import { latentForSeed } from '@shared/seed-latent'
import { setBridge } from '../../src/renderer/src/bridge'
import { formatAmount, useDirectionsStore } from '../../src/renderer/src/stores/directions'
import { createMockBridge, deferred, type MockBridge } from './helpers/mockBridge'

/** Two directions in a 4-dimensional latent: e0 and e1. */
const info: DirectionsInfo = {
  checkpoint: 'step-000500',
  step: 500,
  cached: false,
  samples: 4096,
  featureDim: 1024,
  latentDim: 4,
  ms: 1200,
  components: [
    { component: 1, vector: [1, 0, 0, 0], variance: 4, explained: 0.4, sigma: 1, range: [-3, 3] },
    { component: 2, vector: [0, 1, 0, 0], variance: 1, explained: 0.1, sigma: 1, range: [-2.98, 2.98] }
  ]
}
const png = (items: RequestParams<'explore.render'>['items']): string[] => items.map((i) => `data:image/png;base64,${'seed' in i ? `s${i.seed}` : i.latent.map((v) => v.toFixed(2)).join('_')}`)

let mock: MockBridge
let saved: SavedDirection[]
beforeEach(() => {
  vi.useFakeTimers()
  saved = []
  mock = createMockBridge({
    'directions.components': () => info,
    'directions.saved': () => saved,
    'directions.edit': (p) => {
      if (p.action === 'save') saved = [...saved, { id: `d${saved.length}`, name: p.name, vector: p.vector!.map((v) => v / Math.hypot(...p.vector!)), scale: p.scale ?? 1, component: p.component ?? null, checkpoint: p.checkpoint ?? null, step: null, createdAt: '', updatedAt: '' }]
      if (p.action === 'rename') saved = saved.map((d) => (d.name === p.name ? { ...d, name: p.newName! } : d))
      if (p.action === 'delete') saved = saved.filter((d) => d.name !== p.name)
      return saved
    },
    'explore.render': ({ items }) => ({ images: png(items), checkpoint: 'step-000500', step: 500 }),
    'jobs.cancel': () => ({ cancelled: true })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  vi.useRealTimers()
})

async function settle(ms = 1000): Promise<void> {
  await flushPromises()
  await vi.advanceTimersByTimeAsync(ms)
  await flushPromises()
}
const lastRender = (): RequestParams<'explore.render'> => mock.calls['explore.render'].mock.lastCall![0] as RequestParams<'explore.render'>

describe('directions store', () => {
  it('opens on a seed: its image at once, the directions as sliders, the seed’s latent from the shared seed → latent rule', async () => {
    const d = useDirectionsStore()
    void d.open('run-a', { seed: 7 }, { truncation: 0.8, checkpoint: null })
    await settle()
    expect(mock.calls['explore.render'].mock.calls[0]![0]).toMatchObject({ id: 'run-a', items: [{ seed: 7 }], truncation: 0.8 })
    expect(mock.calls['directions.components']).toHaveBeenCalledWith({ id: 'run-a', count: 10, recompute: false, jobId: expect.stringMatching(/^directions-/) })
    expect(d.preview).toBe('data:image/png;base64,s7')
    expect(d.sliders.map((s) => [s.key, s.min, s.max])).toEqual([
      ['pc1', -3, 3],
      ['pc2', -2.95, 2.95]
    ])
    expect(d.latent).toEqual(Array.from(latentForSeed(7, 4)))
    // The strip: the image at −2…+2 along PC1.
    const z = Array.from(latentForSeed(7, 4))
    expect(lastRender().items).toEqual([-2, -1, 0, 1, 2].map((a) => ({ latent: [z[0]! + a, z[1]!, z[2]!, z[3]!] })))
    expect(d.strip).toHaveLength(5)
  })

  it('sliders move the latent (z + Σ amount · direction), render debounced with the newest winning, and reset', async () => {
    const d = useDirectionsStore()
    void d.open('run-a', { latent: [0.5, 0.5, 0, 0], label: 'a find' }, { truncation: 1, checkpoint: 'step-000500' })
    await settle()
    const before = mock.calls['explore.render'].mock.calls.length
    const hold = deferred<{ images: string[]; checkpoint: string; step: number }>()
    mock.handle('explore.render', () => hold.promise)
    d.setAmount('pc1', 1)
    await vi.advanceTimersByTimeAsync(50)
    // While that render runs, more drags only leave the newest to render next.
    d.setAmount('pc1', 1.5)
    d.setAmount('pc2', -0.5)
    await vi.advanceTimersByTimeAsync(50)
    expect(mock.calls['explore.render'].mock.calls.length).toBe(before + 1)
    mock.handle('explore.render', ({ items }) => ({ images: png(items), checkpoint: 'step-000500', step: 500 }))
    hold.resolve({ images: ['data:image/png;base64,stale'], checkpoint: 'step-000500', step: 500 })
    await settle()
    const previews = mock.calls['explore.render'].mock.calls.map((c) => (c[0] as RequestParams<'explore.render'>).items).filter((items) => items.length === 1)
    expect(previews.at(-1)).toEqual([{ latent: [2, 0, 0, 0] }])
    expect(d.preview).toBe('data:image/png;base64,2.00_0.00_0.00_0.00')
    expect(d.label).toBe('a find · PC1 +1.5 · PC2 −0.5')
    expect(lastRender()).toMatchObject({ checkpoint: 'step-000500' })
    // Out of range is clamped; 0 removes the move.
    d.setAmount('pc2', -9)
    expect(d.amounts.pc2).toBe(-2.95)
    d.setAmount('pc2', 0)
    expect(d.amounts).toEqual({ pc1: 1.5 })
    d.reset()
    await settle()
    expect(d.edited).toBe(false)
    expect(d.latent).toEqual([0.5, 0.5, 0, 0])
  })

  it('the strip follows the chosen direction; taking one of its images moves that slider', async () => {
    const d = useDirectionsStore()
    void d.open('run-a', { latent: [0, 0, 0, 0], label: 'zero' }, { truncation: 1, checkpoint: null })
    await settle()
    d.showInStrip('pc2')
    await settle()
    expect(lastRender().items).toEqual([-2, -1, 0, 1, 2].map((a) => ({ latent: [0, a, 0, 0] })))
    d.takeFromStrip(4)
    await settle()
    expect(d.amounts).toEqual({ pc2: 2 })
    expect(d.latent).toEqual([0, 2, 0, 0])
  })

  it('saves a principal direction (flipped, scaled) and the sliders’ mix; renames; deleting drops its slider', async () => {
    const d = useDirectionsStore()
    void d.open('run-a', { latent: [0, 0, 0, 0], label: 'zero' }, { truncation: 1, checkpoint: null })
    await settle()
    expect(await d.saveDirection('Dusk', 'pc2', { flip: true, scale: 1.5 })).toBe(true)
    expect(mock.calls['directions.edit']).toHaveBeenLastCalledWith({ id: 'run-a', action: 'save', name: 'Dusk', vector: [-0, -1, -0, -0], scale: 1.5, component: 2, checkpoint: 'step-000500' })
    d.setAmount('pc1', 3)
    d.setAmount('pc2', 2.95)
    expect(await d.saveDirection('Mix', 'mix', { flip: false, scale: 1 })).toBe(true)
    const mixCall = mock.calls['directions.edit'].mock.lastCall![0] as RequestParams<'directions.edit'>
    expect(mixCall.vector).toEqual([3, 2.95, 0, 0])
    expect(mixCall.scale).toBeCloseTo(Math.hypot(3, 2.95), 10)
    expect(d.sliders.map((s) => s.label)).toEqual(['PC1', 'PC2', 'Dusk', 'Mix'])
    // A saved slider moves by its scale: Dusk +1 is 1.5 down PC2.
    d.reset()
    d.setAmount(`saved:d0`, 1)
    expect(d.latent![1]).toBeCloseTo(-1.5, 10)
    expect(await d.edit({ action: 'rename', name: 'Dusk', newName: 'Evening' })).toBe(true)
    expect(d.sliders.map((s) => s.label)).toContain('Evening')
    expect(await d.edit({ action: 'delete', name: 'Evening' })).toBe(true)
    expect(d.amounts).toEqual({})
    expect(d.sliders.map((s) => s.label)).toEqual(['PC1', 'PC2', 'Mix'])
  })

  it('computing shows progress for its job, can be cancelled, and closing cancels what runs', async () => {
    const d = useDirectionsStore()
    const hold = deferred<DirectionsInfo>()
    mock.handle('directions.components', () => hold.promise)
    void d.open('run-a', { seed: 1 }, { truncation: 1, checkpoint: null })
    await flushPromises()
    expect(d.computing).toBe(true)
    const jobId = (mock.calls['directions.components'].mock.lastCall![0] as { jobId: string }).jobId
    mock.emit('jobs.progress', { jobId, kind: 'directions', done: 3, total: 10, label: 'Finding directions' })
    mock.emit('jobs.progress', { jobId: 'other', kind: 'directions', done: 9, total: 10, label: 'x' })
    expect(d.progress).toMatchObject({ done: 3, total: 10 })
    d.cancelCompute()
    expect(mock.calls['jobs.cancel']).toHaveBeenLastCalledWith({ jobId })
    hold.reject({ code: 'cancelled', message: 'Finding the directions was cancelled.' })
    await settle()
    expect(d.computing).toBe(false)
    expect(d.computeFailed).toBe('Finding the directions was cancelled.')
    // Try again, then close while it runs: the job is cancelled.
    const again = deferred<DirectionsInfo>()
    mock.handle('directions.components', () => again.promise)
    void d.loadDirections()
    await flushPromises()
    const second = (mock.calls['directions.components'].mock.lastCall![0] as { jobId: string }).jobId
    d.close()
    expect(mock.calls['jobs.cancel']).toHaveBeenLastCalledWith({ jobId: second })
    again.resolve(info)
    await settle()
    expect(d.info).toBeNull()
  })

  it('formats amounts as people read them', () => {
    expect([formatAmount(0), formatAmount(1.26), formatAmount(-0.04), formatAmount(-2)]).toEqual(['0', '+1.3', '0', '−2.0'])
  })
})

describe('Directions in the Generate view', () => {
  it('opens from a gallery image; the edited image goes to variations and to the walk; walking along a direction makes a walk', async () => {
    vi.useRealTimers()
    const { default: GenerateView } = await import('../../src/renderer/src/views/GenerateView.vue')
    const { mountView, button } = await import('./helpers/mount')
    const { runSummary } = await import('./helpers/mockBridge')
    mock.handle('runs.list', () => [runSummary({ id: 'run-a', name: 'Flowers', status: 'completed', step: 500 })])
    mock.handle('generate.checkpoints', () => [{ name: 'step-000500', step: 500 }])
    mock.handle('generate.favorites', () => ({ seeds: [] }))
    mock.handle('explore.collections', () => ({ seeds: [], collections: [] }))
    mock.handle('generate.images', ({ seeds }) => ({ images: seeds.map((seed) => ({ seed, url: `data:image/png;base64,s${seed}`, file: null })), sheet: null, dir: null, checkpoint: 'step-000500', step: 500 }))
    mock.handle('explore.variations', ({ center }) => ({ center: { latent: 'latent' in center ? center.latent : [0, 0, 0, 0], image: 'data:image/png;base64,c' }, neighbours: [], checkpoint: 'step-000500', step: 500 }))
    mock.handle('generate.walk', () => ({ file: 'exports/walks/w.gif', frames: 96 }))
    const wait = (): Promise<void> => new Promise((r) => setTimeout(r, 350))
    const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
    await flushPromises()
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await button(wrapper, 'Directions of seed 3').trigger('click')
    await flushPromises()
    await wait()
    const dialog = wrapper.findComponent({ name: 'DirectionsDialog' })
    expect(dialog.exists()).toBe(true)
    const sliders = document.querySelectorAll<HTMLInputElement>('input[type="range"][aria-label^="PC"]')
    expect([...sliders].map((s) => s.getAttribute('aria-label'))).toEqual(['PC1', 'PC2'])
    expect(document.body.textContent).toContain('40%')
    sliders[0]!.value = '2'
    sliders[0]!.dispatchEvent(new Event('input'))
    await flushPromises()
    await wait()
    expect(document.body.textContent).toContain('seed 3 · PC1 +2.0')
    const z = Array.from(latentForSeed(3, 4))
    const edited = [z[0]! + 2, z[1]!, z[2]!, z[3]!]

    // + walk: the edited image joins the (empty) walk as a latent keyframe.
    const find = (name: string): HTMLButtonElement => [...document.querySelectorAll<HTMLButtonElement>('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent)!.trim() === name)!
    find('+ walk').click()
    await flushPromises()
    expect(document.body.textContent).toContain('Keyframes: 1 chosen image (add one more).')

    // Walk along PC1: four keyframes through the image, ±2 along the direction; the walk is made.
    find('Walk along').click()
    await flushPromises()
    const walk = mock.calls['generate.walk'].mock.lastCall![0] as RequestParams<'generate.walk'>
    expect(walk.keyframes).toEqual([{ latent: edited }, { latent: [edited[0]! + 2, ...edited.slice(1)] }, { latent: edited }, { latent: [edited[0]! - 2, ...edited.slice(1)] }])
    expect(wrapper.findComponent({ name: 'DirectionsDialog' }).exists()).toBe(false)
    expect(document.body.textContent).toContain('A loop along PC1 (±2) from seed 3 · PC1 +2.0.')

    // Variations of an edited image start from its latent.
    await button(wrapper, 'Directions of seed 3').trigger('click')
    await flushPromises()
    await wait()
    find('Variations').click()
    await flushPromises()
    expect(mock.calls['explore.variations']).toHaveBeenLastCalledWith(expect.objectContaining({ center: { latent: z } }))
    expect(wrapper.findComponent({ name: 'VariationsDialog' }).exists()).toBe(true)
    wrapper.unmount()
    document.body.innerHTML = ''
  })
})
