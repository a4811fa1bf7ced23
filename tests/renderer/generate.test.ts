import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { StudioError } from '@shared/errors'
import type { RequestParams } from '@shared/contract'
import { setBridge } from '../../src/renderer/src/bridge'
import { formatSeeds, parseSeeds, randomSeeds, useGenerateStore } from '../../src/renderer/src/stores/generate'
import GenerateView from '../../src/renderer/src/views/GenerateView.vue'
import { createMockBridge, deferred, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, byLabel, mountView } from './helpers/mount'

const png = 'data:image/png;base64,iVBORw0KGgo='
let mock: MockBridge

beforeEach(() => {
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'run-a', name: 'Flowers', status: 'completed', step: 500 }), runSummary({ id: 'run-b', name: 'Fresh', status: 'stopped', step: 0 })],
    'generate.checkpoints': () => [
      { name: 'step-000500', step: 500 },
      { name: 'step-000400', step: 400 }
    ],
    'generate.favorites': ({ seeds }) => ({ seeds: seeds ? [...new Set(seeds)].sort((a, b) => a - b) : [7] }),
    'generate.images': ({ seeds, save, collection }) => ({
      images: seeds.map((seed) => ({ seed, url: save ? `exports/${collection}/step-000500-psi1.00/seed-${seed}.png` : png, file: save ? `x/${seed}` : null })),
      sheet: null,
      dir: save ? `exports/${collection}/step-000500-psi1.00` : null,
      checkpoint: 'step-000500',
      step: 500
    }),
    'export.model': () => ({ dir: '/home/a/GAN Studio/runs/run-a/exports/model-step-000500', page: 'exports/model-step-000500/index.html', checkpoint: 'step-000500', step: 500 })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('seed text', () => {
  it('reads numbers and ranges, keeps order, drops repeats', () => {
    expect(parseSeeds('0-3, 7 2')).toEqual({ seeds: [0, 1, 2, 3, 7], error: null })
    expect(parseSeeds('42')).toEqual({ seeds: [42], error: null })
    expect(parseSeeds('').error).toMatch(/at least one seed/)
    expect(parseSeeds('1, x').error).toMatch(/“x” is not a seed/)
    expect(parseSeeds('5-2').error).toMatch(/backwards/)
    expect(parseSeeds('0-100000000').error).toMatch(/At most 256/)
    expect(parseSeeds('3000000000').error).toMatch(/0 to 2147483647/)
    expect(formatSeeds([0, 1, 2, 3, 7, 9, 10])).toBe('0-3, 7, 9, 10')
    const r = randomSeeds(20)
    expect(new Set(r).size).toBe(20)
    expect(r.every((s) => Number.isInteger(s) && s >= 0 && s <= 2 ** 31 - 1)).toBe(true)
  })
})

describe('generate store', () => {
  it('listens for walk progress before its first request', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    expect(mock.log.indexOf('on:jobs.progress')).toBeGreaterThan(-1)
    expect(mock.log.indexOf('on:jobs.progress')).toBeLessThan(mock.log.indexOf('call:generate.checkpoints'))
    expect(gen.checkpoints.map((c) => c.step)).toEqual([500, 400])
    expect(gen.favorites).toEqual([7])
  })

  it('previews the chosen seeds with ψ, from the chosen checkpoint, without saving', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.seedsText = '10-12'
    gen.truncation = 0.7
    gen.checkpoint = 'step-000400'
    expect(await gen.generate()).toBe(true)
    expect(mock.calls['generate.images']).toHaveBeenLastCalledWith({ id: 'run-a', seeds: [10, 11, 12], truncation: 0.7, checkpoint: 'step-000400' })
    expect(gen.images.map((i) => i.seed)).toEqual([10, 11, 12])
    expect(gen.shown).toEqual({ runId: 'run-a', checkpoint: 'step-000500', step: 500, truncation: 0.7 })
  })

  it('stars seeds in the run folder, and puts the star back when saving fails', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    await gen.toggleFavorite(3)
    expect(mock.calls['generate.favorites']).toHaveBeenLastCalledWith({ id: 'run-a', seeds: [3, 7] })
    expect(gen.favorites).toEqual([3, 7])
    mock.handle('generate.favorites', () => {
      throw new StudioError('io', 'The disk is full.')
    })
    await gen.toggleFavorite(7)
    expect(gen.favorites).toEqual([3, 7])
  })

  it('exports the favourites together, upscaled, into exports/favorites', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.upscale = 4
    expect(await gen.exportFavorites()).toBe(true)
    const params = mock.calls['generate.images'].mock.lastCall![0] as RequestParams<'generate.images'>
    expect(params).toMatchObject({ id: 'run-a', seeds: [7], upscale: 4, save: true, collection: 'favorites', sheet: true })
    expect(gen.lastSaved).toEqual({ dir: 'exports/favorites/step-000500-psi1.00', count: 1, kind: 'favorites' })
  })

  it('makes a walk and follows only its own progress events', async () => {
    const answer = deferred<{ file: string; frames: number }>()
    mock.handle('generate.walk', () => answer.promise)
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.walkSeedsText = '1, 2, 3'
    gen.walkSeconds = 2
    gen.walkFps = 12
    gen.walkFormat = 'webp'
    const walking = gen.makeWalk()
    await flushPromises()
    const params = mock.calls['generate.walk'].mock.lastCall![0] as RequestParams<'generate.walk'>
    expect(params).toMatchObject({ id: 'run-a', seeds: [1, 2, 3], seconds: 2, fps: 12, format: 'webp', truncation: 1 })
    expect(gen.walking).toBe(true)
    mock.emit('jobs.progress', { jobId: 'someone-else', kind: 'walk', done: 20, total: 24, label: 'Rendering frames' })
    expect(gen.walkProgress?.done).toBe(0)
    mock.emit('jobs.progress', { jobId: params.jobId!, kind: 'walk', done: 8, total: 24, label: 'Rendering frames' })
    expect(gen.walkProgress).toMatchObject({ done: 8, total: 24 })
    answer.resolve({ file: 'exports/walks/walk.webp', frames: 24 })
    expect(await walking).toBe(true)
    expect(gen.walking).toBe(false)
    expect(gen.walkUrl).toBe('studio://home/runs/run-a/exports/walks/walk.webp')
  })

  it('cancels the walk it is making: asks by job id, ends without a result or an error toast', async () => {
    const answer = deferred<{ file: string; frames: number }>()
    mock.handle('generate.walk', () => answer.promise)
    mock.handle('jobs.cancel', () => {
      answer.reject(new StudioError('cancelled', 'The walk was cancelled.'))
      return { cancelled: true }
    })
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.walkSeedsText = '1, 2'
    const walking = gen.makeWalk()
    await flushPromises()
    const { jobId } = mock.calls['generate.walk'].mock.lastCall![0] as RequestParams<'generate.walk'>
    await gen.cancelWalk()
    expect(mock.calls['jobs.cancel']).toHaveBeenCalledWith({ jobId })
    expect(await walking).toBe(false)
    expect(gen.walking).toBe(false)
    expect(gen.walkCancelled).toBe(true)
    expect(gen.walkResult).toBeNull()
    const { useAppStore } = await import('../../src/renderer/src/stores/app')
    expect(useAppStore().toasts).toEqual([])
    // Nothing to cancel once it has ended.
    await gen.cancelWalk()
    expect(mock.calls['jobs.cancel']).toHaveBeenCalledTimes(1)
  })

  it('refuses a walk with fewer than two keyframes without asking the main side', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.walkSeedsText = '5'
    expect(gen.parsedWalkSeeds.error).toMatch(/at least two/)
    expect(await gen.makeWalk()).toBe(false)
    expect(mock.calls['generate.walk']).not.toHaveBeenCalled()
  })

  it('exports the model and links its offline page', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    expect(await gen.exportModel()).toBe(true)
    expect(gen.exportedPageUrl).toBe('studio://home/runs/run-a/exports/model-step-000500/index.html')
  })
})

describe('Generate view', () => {
  it('picks a run and checkpoint, generates, stars and builds a walk with labelled controls', async () => {
    mock.handle('generate.walk', () => ({ file: 'exports/walks/w.gif', frames: 96 }))
    const { wrapper } = await mountView(GenerateView, { path: '/generate' })
    await flushPromises()
    const run = byLabel(wrapper, 'Run')
    expect(run.element.tagName).toBe('SELECT')
    expect((run.element as unknown as HTMLSelectElement).value).toBe('run-a')
    // a run that never saved a checkpoint is not offered
    expect(run.findAll('option').map((o) => o.text())).toEqual(['Flowers · 500 steps'])
    expect(byLabel(wrapper, 'Checkpoint').findAll('option').map((o) => o.text())).toEqual(['Newest (step 500)', 'Step 400'])
    expect(byLabel(wrapper, 'Truncation ψ').attributes('type')).toBe('range')

    await byLabel(wrapper, 'Seeds').setValue('40-43')
    expect(button(wrapper, /^Generate$/).attributes('type')).toBe('submit')
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    const gallery = wrapper.find('[aria-label="Generated images"]')
    expect(gallery.findAll('img').map((i) => i.attributes('alt'))).toEqual(['Seed 40', 'Seed 41', 'Seed 42', 'Seed 43'])

    const star = button(wrapper, 'Star seed 42')
    expect(star.attributes('aria-pressed')).toBe('false')
    await star.trigger('click')
    await flushPromises()
    expect(button(wrapper, 'Star seed 42').attributes('aria-pressed')).toBe('true')
    expect(wrapper.text()).toContain('Favourites (2)')

    await byLabel(wrapper, 'Seeds').setValue('1, oops')
    expect(wrapper.text()).toContain('“oops” is not a seed')
    expect(button(wrapper, /^Generate$/).attributes('disabled')).toBeDefined()

    await button(wrapper, 'Add seed 40 to the walk').trigger('click')
    await button(wrapper, 'Add seed 43 to the walk').trigger('click')
    expect((byLabel(wrapper, 'Keyframes').element as HTMLInputElement).value).toBe('40, 43')
    expect(byLabel(wrapper, 'Frames per second').exists()).toBe(true)
    expect(byLabel(wrapper, 'Format').findAll('option').map((o) => o.attributes('value'))).toEqual(['gif', 'webp', 'png'])
    await button(wrapper, 'Make walk').trigger('click')
    await flushPromises()
    expect(wrapper.find('[role="progressbar"][aria-label="Walk progress"]').exists()).toBe(true)
    expect(wrapper.find('img[alt="The latent walk"]').attributes('src')).toBe('studio://home/runs/run-a/exports/walks/w.gif')
    expect(button(wrapper, 'Export model').exists()).toBe(true)
    expect(button(wrapper, 'Export favourites').exists()).toBe(true)
  })

  it('offers Cancel walk only while a walk is being made, and says when it was cancelled', async () => {
    const answer = deferred<{ file: string; frames: number }>()
    mock.handle('generate.walk', () => answer.promise)
    mock.handle('jobs.cancel', () => {
      answer.reject(new StudioError('cancelled', 'The walk was cancelled.'))
      return { cancelled: true }
    })
    const { wrapper } = await mountView(GenerateView, { path: '/generate' })
    await flushPromises()
    await byLabel(wrapper, 'Keyframes').setValue('3, 9')
    expect(wrapper.findAll('button').some((b) => b.text() === 'Cancel walk')).toBe(false)
    await button(wrapper, 'Make walk').trigger('click')
    await flushPromises()
    await button(wrapper, 'Cancel walk').trigger('click')
    await flushPromises()
    expect(mock.calls['jobs.cancel']).toHaveBeenCalledTimes(1)
    expect(wrapper.findAll('button').some((b) => b.text() === 'Cancel walk')).toBe(false)
    expect(wrapper.find('[role="status"]').text()).toContain('The walk was cancelled')
    expect(button(wrapper, 'Make walk').attributes('disabled')).toBeUndefined()
  })
})
