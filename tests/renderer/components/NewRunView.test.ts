import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { configField } from '@shared/config-fields'
import { setBridge } from '../../../src/renderer/src/bridge'
import NewRunView from '../../../src/renderer/src/views/NewRunView.vue'
import { createMockBridge, dataset, runSummary, type MockBridge } from '../helpers/mockBridge'
import { button, byLabel, mountView } from '../helpers/mount'

let mock: MockBridge

beforeEach(() => {
  mock = createMockBridge({
    'datasets.list': () => [dataset({ id: 'ds-1', name: 'Sketches', resolution: 32 })],
    'backends.list': () => [
      { name: 'tensorflow', available: false, reason: '@tensorflow/tfjs-node-gpu is not installed.', imagesPerSec: null },
      { name: 'wasm', available: true, reason: null, imagesPerSec: 38 },
      { name: 'cpu', available: true, reason: null, imagesPerSec: 0.3 }
    ],
    'runs.estimate': () => ({ msPer1000Steps: 90_000, backend: 'wasm' }),
    'runs.start': () => runSummary({ id: 'started' })
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('New run settings form', () => {
  it('has the labelled inputs the studio promises', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    expect(byLabel(wrapper, 'Steps').exists()).toBe(true)
    expect(byLabel(wrapper, 'Batch size').exists()).toBe(true)
    expect(byLabel(wrapper, 'Resolution').element.tagName).toBe('SELECT')
    for (const group of ['Basics', 'Model', 'Optimizer', 'Augmentation']) expect(wrapper.find('h2').exists() && wrapper.text()).toContain(group)
    expect(button(wrapper, /Start training/).exists()).toBe(true)
  })

  it("shows each number's bounds and default from the schema", async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    const batch = configField('batchSize')
    const input = byLabel(wrapper, 'Batch size')
    expect(input.attributes('min')).toBe(String(batch.minimum))
    expect(input.attributes('max')).toBe(String(batch.maximum))
    const help = wrapper.find(`#${input.attributes('aria-describedby')!.split(' ').at(-1)!}`)
    expect(help.text()).toContain(`${batch.minimum} to ${batch.maximum} images · default ${String(batch.default)}`)
  })

  it('shows an inline error for an invalid value and clears it when fixed', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    const steps = byLabel(wrapper, 'Steps')
    await steps.setValue('0')
    expect(steps.attributes('aria-invalid')).toBe('true')
    const describedBy = steps.attributes('aria-describedby')!.split(' ')
    const error = wrapper.find(`[id="${describedBy[0]}"]`)
    expect(error.text()).toBe('Must be at least 1.')

    await steps.setValue('2.5')
    expect(wrapper.find(`[id="${describedBy[0]}"]`).text()).toBe('Must be a whole number.')

    await steps.setValue('50')
    expect(steps.attributes('aria-invalid')).toBe('false')
    expect(wrapper.text()).not.toContain('Must be a whole number.')
  })

  it('does not start an invalid run, and says how many settings need attention', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    await byLabel(wrapper, 'Batch size').setValue('999')
    await button(wrapper, /Start training/).trigger('click')
    await flushPromises()
    expect(mock.calls['runs.start']).not.toHaveBeenCalled()
    expect(wrapper.find('[role="alert"]').text()).toMatch(/One setting needs attention/)
    expect(wrapper.text()).toContain('Must be at most 256.')
  })

  it('starts a valid run with the chosen settings and opens it', async () => {
    const { wrapper, router } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    await byLabel(wrapper, 'Steps').setValue('40')
    await byLabel(wrapper, 'Batch size').setValue('8')
    await byLabel(wrapper, 'Resolution').setValue('64')
    await button(wrapper, /Start training/).trigger('click')
    await flushPromises()
    expect(mock.calls['runs.start']).toHaveBeenCalledTimes(1)
    const config = mock.calls['runs.start'].mock.calls[0]![0].config
    expect(config).toMatchObject({ steps: 40, batchSize: 8, source: '/home/artist/sketches', preprocess: { resolution: 64 } })
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/runs/started'), { timeout: 10_000 })
  })

  it('shows which backends are unavailable and why', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    expect(wrapper.text()).toContain('@tensorflow/tfjs-node-gpu is not installed.')
    const tf = wrapper.find<HTMLInputElement>('input[type="radio"][value="tensorflow"]')
    expect(tf.element.disabled).toBe(true)
    expect(wrapper.find<HTMLInputElement>('input[type="radio"][value="wasm"]').element.disabled).toBe(false)
  })

  it('applies a preset to the form', async () => {
    const { wrapper } = await mountView(NewRunView, { path: '/new' })
    await flushPromises()
    await button(wrapper, /^Quality/).trigger('click')
    expect(byLabel(wrapper, 'Steps').element.value).toBe('20000')
    expect(byLabel(wrapper, 'Batch size').element.value).toBe('32')
    expect(byLabel(wrapper, 'Generator width').element.value).toBe('64')
  })
})
