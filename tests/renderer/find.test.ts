import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import type { FindResult, RequestParams } from '@shared/contract'
import { setBridge } from '../../src/renderer/src/bridge'
import { MAX_DATA_URL_CHARS, scaleSteps } from '../../src/renderer/src/lib/image-file'
import GenerateView from '../../src/renderer/src/views/GenerateView.vue'
import { createMockBridge, deferred, runJson, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, mountView } from './helpers/mount'

let mock: MockBridge
const png = (tag: string): string => `data:image/png;base64,${tag}`
let pending: ReturnType<typeof deferred<FindResult>>

const result = (over: Partial<FindResult> = {}): FindResult => ({
  latent: [0.5, -1, 2],
  image: png('match'),
  target: png('target-as-compared'),
  targetLabel: 'dataset image 4 (moth.png)',
  psnr: 24.3,
  distance: 0.041,
  baseline: 0.2,
  verdict: 'close',
  summary: 'A close match: 24.3 dB PSNR, 80% closer than a random image from this model.',
  steps: 200,
  starts: 6,
  checkpoint: 'step-000500',
  step: 500,
  ms: 4200,
  ...over
})

beforeEach(() => {
  pending = deferred<FindResult>()
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'run-a', name: 'Moths', status: 'completed', step: 500, resolution: 32 })],
    'runs.get': () => ({ run: runJson({ id: 'run-a', name: 'Moths', dataset: { ...runJson().dataset, id: 'moths', name: 'moths', count: 30 } }), summary: runSummary({ id: 'run-a' }), samples: [] }),
    'generate.checkpoints': () => [{ name: 'step-000500', step: 500 }],
    'generate.favorites': () => ({ seeds: [] }),
    'explore.collections': () => ({ seeds: [], collections: [] }),
    'explore.collection': (p) => ({ seeds: [], collections: [{ name: p.name, createdAt: '', updatedAt: '', items: [] }] }),
    'datasets.images': ({ offset, limit }) => ({ total: 30, images: Array.from({ length: Math.min(limit ?? 64, 30 - (offset ?? 0)) }, (_, i) => png(`d${(offset ?? 0) + i}`)) }),
    'explore.find': () => pending.promise,
    'jobs.cancel': () => ({ cancelled: true }),
    'explore.variations': ({ center }) => ({
      center: { latent: 'latent' in center ? center.latent : [0], image: png('centre') },
      neighbours: [{ latent: [9], image: png('n1') }],
      checkpoint: 'step-000500',
      step: 500
    })
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

async function openFind() {
  const { wrapper } = await mountView(GenerateView, { path: '/generate?run=run-a' })
  await flushPromises()
  await button(wrapper, /Find my image/).trigger('click')
  await flushPromises()
  return wrapper
}

describe('Find my image', () => {
  it('picks a training image, shows the live best match and progress, then the verdict and what to do with the latent', async () => {
    const wrapper = await openFind()
    expect(button(wrapper, 'Find').attributes('disabled')).toBeDefined()
    await wrapper.find('input[value="dataset"]').setValue(true)
    await flushPromises()
    expect(mock.calls['datasets.images']).toHaveBeenLastCalledWith({ id: 'moths', offset: 0, limit: 24 })
    expect(wrapper.findAll('ul[aria-label="Training images"] img')).toHaveLength(24)
    await button(wrapper, 'Next').trigger('click')
    await flushPromises()
    expect(mock.calls['datasets.images']).toHaveBeenLastCalledWith({ id: 'moths', offset: 24, limit: 24 })
    await button(wrapper, 'Training image 29').trigger('click')
    expect(button(wrapper, 'Training image 29').attributes('aria-pressed')).toBe('true')
    expect(wrapper.find('img[alt="The image to find: Training image 29"]').attributes('src')).toBe(png('d28'))

    await wrapper.find('select#find-steps').setValue('400')
    await wrapper.find('input#find-starts').setValue('40')
    await button(wrapper, 'Find').trigger('click')
    await flushPromises()
    const params = mock.calls['explore.find'].mock.lastCall![0] as RequestParams<'explore.find'>
    expect(params).toEqual({ id: 'run-a', jobId: expect.stringMatching(/^find-/), image: { datasetImage: 28 }, steps: 400, starts: 16 })
    // While it searches: progress and a preview of the best match so far; Cancel instead of Find.
    mock.emit('explore.findProgress', { jobId: 'someone-else', phase: 'refine', done: 9, total: 9, loss: 0, preview: png('not-ours') })
    mock.emit('explore.findProgress', { jobId: params.jobId!, phase: 'screen', done: 0, total: 400, loss: null, preview: null, target: png('target-as-compared') })
    mock.emit('explore.findProgress', { jobId: params.jobId!, phase: 'explore', done: 50, total: 400, loss: 0.0456, preview: png('p50') })
    mock.emit('explore.findProgress', { jobId: params.jobId!, phase: 'refine', done: 120, total: 400, loss: 0.0321, preview: null })
    await flushPromises()
    expect(wrapper.find('img[alt="The best match so far"]').attributes('src')).toBe(png('p50'))
    expect(wrapper.find('img[alt="The image to find: Training image 29"]').attributes('src')).toBe(png('target-as-compared'))
    expect(wrapper.text()).toContain('Your image, as the run sees it')
    const bar = wrapper.find('[role="progressbar"][aria-label="Search progress"]')
    expect(bar.attributes('aria-valuenow')).toBe('120')
    expect(bar.attributes('aria-valuemax')).toBe('400')
    expect(wrapper.text()).toContain('Refining the best match · step 120 of 400 · loss 0.0321')
    expect(button(wrapper, 'Cancel').exists()).toBe(true)

    pending.resolve(result())
    await flushPromises()
    expect(wrapper.find('img[alt="The best match found"]').attributes('src')).toBe(png('match'))
    expect(wrapper.find('img[alt="The image to find: Training image 29"]').attributes('src')).toBe(png('target-as-compared'))
    expect(wrapper.find('.verdict').text()).toBe('Close match')
    expect(wrapper.text()).toContain('A close match: 24.3 dB PSNR')
    expect(wrapper.find('.measures').text()).toMatch(/PSNR\s*24\.3 dB/)
    expect(wrapper.find('.measures').text()).toMatch(/Closer than random\s*80%/)
    expect(wrapper.find('a[download]').attributes('href')).toBe(png('match'))
    expect(wrapper.find('a[download]').attributes('download')).toBe('Moths-found-dataset-image-4-moth.png')

    await button(wrapper, '+ collection').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.collection']).toHaveBeenLastCalledWith({ id: 'run-a', action: 'add', name: 'Picks', create: true, items: [{ latent: [0.5, -1, 2], label: 'found: dataset image 4 (moth.png)' }] })
    expect(button(wrapper, 'Kept ✓').exists()).toBe(true)

    // + walk: the walk's keyframes become the typed seeds plus the found latent.
    await wrapper.find('#walk-seeds').setValue('3, 17')
    await button(wrapper, '+ walk').trigger('click')
    await flushPromises()
    expect(wrapper.text()).toContain('Keyframes: seeds 3, 17 and 1 chosen image.')

    // Variations of the found latent: this dialog gives way to the Variations dialog.
    await button(wrapper, 'Variations').trigger('click')
    await flushPromises()
    expect(mock.calls['explore.variations']).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'run-a', center: { latent: [0.5, -1, 2] } }))
    expect(wrapper.find('.variations .centre').text()).toContain('found: dataset image 4 (moth.png)')
    expect(wrapper.find('.find').exists()).toBe(false)
  })

  it('a dropped file is sent as a data URL; Cancel stops the search; an error is shown in words', async () => {
    const wrapper = await openFind()
    const input = wrapper.find<HTMLInputElement>('input[type="file"]')
    const file = new File([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3])], 'my moth.png', { type: 'image/png' })
    Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
    await input.trigger('change')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    await button(wrapper, 'Find').trigger('click')
    await flushPromises()
    const params = mock.calls['explore.find'].mock.lastCall![0] as RequestParams<'explore.find'>
    expect(params.image).toEqual({ dataUrl: expect.stringMatching(/^data:image\/png;base64,iVBORw0KGgo/), name: 'my moth.png' })

    await button(wrapper, 'Cancel').trigger('click')
    await flushPromises()
    expect(mock.calls['jobs.cancel']).toHaveBeenLastCalledWith({ jobId: params.jobId })
    pending.reject({ code: 'cancelled', message: 'Finding the image was cancelled.' })
    await flushPromises()
    expect(wrapper.text()).toContain('The search was cancelled.')
    expect(button(wrapper, 'Find').exists()).toBe(true)

    mock.handle('explore.find', () => Promise.reject({ code: 'bad-input', message: 'my moth.png cannot be used: not a readable image.' }))
    await button(wrapper, 'Find').trigger('click')
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toBe('my moth.png cannot be used: not a readable image.')
  })

  it('a "no good match" verdict is shown as such', async () => {
    const wrapper = await openFind()
    await wrapper.find('input[value="dataset"]').setValue(true)
    await flushPromises()
    await button(wrapper, 'Training image 1').trigger('click')
    pending.resolve(result({ verdict: 'none', summary: 'No good match: this model cannot make this image; the result is the nearest it found (12.0 dB PSNR, 10% closer than a random image from this model).', distance: 0.18 }))
    await button(wrapper, 'Find').trigger('click')
    await flushPromises()
    expect(wrapper.find('.verdict.none').text()).toBe('No good match')
    expect(button(wrapper, 'Search again').exists()).toBe(true)
  })
})

describe('scaling a large picture down to send it', () => {
  it('tries smaller sides down to the minimum, never upscaling', () => {
    expect(scaleSteps(4000, 256)).toEqual([1024, 716, 501, 350, 256])
    expect(scaleSteps(300, 256)).toEqual([300, 256])
    expect(scaleSteps(100, 256)).toEqual([100])
    expect(MAX_DATA_URL_CHARS).toBeLessThan(256 * 1024)
  })
})
