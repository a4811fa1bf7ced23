import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { RunConfigSchema } from '@shared/config'
import type { RequestParams } from '@shared/contract'
import { setBridge } from '../../../src/renderer/src/bridge'
import NewRunView from '../../../src/renderer/src/views/NewRunView.vue'
import RunView from '../../../src/renderer/src/views/RunView.vue'
import { createMockBridge, dataset, runJson, runSummary, type MockBridge } from '../helpers/mockBridge'
import { button, mountView } from '../helpers/mount'

let mock: MockBridge
const base = runJson({
  id: 'base-1',
  name: 'Big folder',
  status: 'completed',
  step: 4000,
  latestCheckpointStep: 4000,
  config: RunConfigSchema.parse({ source: '/art/big', preprocess: { resolution: 64 }, model: { arch: 'lite', gChannels: 48, latentDim: 96 } })
})

beforeEach(() => {
  mock = createMockBridge({
    'datasets.list': () => [dataset({ id: 'ds-1', name: 'Few drawings', resolution: 64 })],
    'backends.list': () => [{ name: 'wasm', available: true, reason: null, imagesPerSec: 38 }],
    'runs.estimate': () => ({ msPer1000Steps: 90_000, backend: 'wasm' }),
    'runs.list': () => [runSummary({ id: 'base-1', name: 'Big folder', status: 'completed', step: 4000, resolution: 64 })],
    'runs.get': () => ({ run: base, summary: runSummary({ id: 'base-1' }), samples: [] }),
    'runs.metrics': () => [],
    'runs.start': () => runSummary({ id: 'started' })
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Start from another run (fine-tune)', () => {
  it('takes the base model, turns augmentation on, says when the size no longer fits, and starts with from', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    const pick = wrapper.find('#start-from')
    expect(pick.findAll('option').map((o) => o.text())).toEqual(['Scratch (new weights)', 'Big folder — 64 px, step 4,000'])
    await pick.setValue('base-1')
    await flushPromises()
    expect(wrapper.text()).toContain('Starts from')

    await wrapper.find('#resolution').setValue('32')
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toMatch(/Cannot start from “Big folder”: it makes 64 px pictures, this run 32 px/)
    await button(wrapper, /Start training/).trigger('click')
    await flushPromises()
    expect(mock.calls['runs.start']).not.toHaveBeenCalled()

    await wrapper.find('#resolution').setValue('64')
    await button(wrapper, /Start training/).trigger('click')
    await flushPromises()
    const params = mock.calls['runs.start'].mock.lastCall![0] as RequestParams<'runs.start'>
    expect(params.from).toEqual({ id: 'base-1' })
    expect(params.config.model).toMatchObject({ arch: 'lite', gChannels: 48, latentDim: 96 })
    expect(params.config.augment).toMatchObject({ xflip: true, translation: true, color: true })
  })

  it('the run page says where a fine-tuned run started', async () => {
    const tuned = runJson({ id: 'r2', name: 'Few drawings', fineTunedFrom: { run: 'base-1', name: 'Big folder', step: 4000, checkpoint: 'step-004000' } })
    mock.handle('runs.get', () => ({ run: tuned, summary: runSummary({ id: 'r2', name: 'Few drawings' }), samples: [] }))
    const { wrapper } = await mountView(RunView, { path: '/runs/r2', props: { id: 'r2' } })
    await flushPromises()
    const line = wrapper.find('.fine-tuned')
    expect(line.text()).toBe('Fine-tuned from Big folder at step 4,000')
    expect(line.find('a').attributes('href')).toBe('/runs/base-1')
  })
})
