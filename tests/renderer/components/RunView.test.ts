import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import type { Results } from '@shared/contract'
import { setBridge } from '../../../src/renderer/src/bridge'
import RunView from '../../../src/renderer/src/views/RunView.vue'
import { createMockBridge, metric, runJson, runSummary, type MockBridge } from '../helpers/mockBridge'
import { button, mountView } from '../helpers/mount'

let mock: MockBridge
let detail: Results['runs.get']

beforeEach(() => {
  detail = {
    run: runJson({ id: 'r1', name: 'Night moths' }),
    summary: runSummary({ id: 'r1', name: 'Night moths', status: 'running', step: 30, steps: 1000 }),
    samples: [
      { runId: 'r1', step: 10, file: 'samples/step-000010.png' },
      { runId: 'r1', step: 20, file: 'samples/step-000020.png' }
    ]
  }
  mock = createMockBridge({
    'runs.list': () => [detail.summary],
    'runs.get': () => detail,
    'runs.metrics': () => [metric(10), metric(20), metric(30)],
    'runs.pause': () => detail.summary,
    'runs.resume': () => ({ ...detail.summary, status: 'running' }),
    'runs.stop': () => detail.summary
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

const names = (w: Awaited<ReturnType<typeof mountView>>['wrapper']) =>
  w.findAll('.controls button').map((b) => b.text().trim())

describe('Run view', () => {
  it('shows the chart and gallery regions with their accessible names', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    const chart = wrapper.find('[role="region"][aria-label="Loss chart"]')
    expect(chart.exists()).toBe(true)
    expect(chart.attributes('data-points')).toBe('3')
    expect(chart.find('canvas').attributes('aria-label')).toMatch(/3 points up to step 30/)
    const gallery = wrapper.find('[role="region"][aria-label="Samples"]')
    expect(gallery.find('img').attributes('src')).toBe('studio://home/runs/r1/samples/step-000020.png')
    expect(wrapper.find('h1').text()).toBe('Night moths')
  })

  it('new points and samples appear live', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    mock.emit('train.progress', { runId: 'r1', step: 40, steps: 1000, imagesPerSec: 37.5, etaMs: 60_000, metric: metric(40) })
    mock.emit('train.sample', { runId: 'r1', step: 40, file: 'samples/step-000040.png' })
    await flushPromises()
    expect(wrapper.find('[aria-label="Loss chart"]').attributes('data-points')).toBe('4')
    expect(wrapper.find('[aria-label="Samples"] img').attributes('src')).toContain('step-000040.png')
    expect(wrapper.text()).toContain('37.5 img/s')
    expect(wrapper.text()).toContain('1 min 00 s')
  })

  it('offers Pause and Stop while training, Resume and Stop when paused', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    expect(names(wrapper)).toEqual(['Pause', 'Stop'])
    await button(wrapper, 'Pause').trigger('click')
    await flushPromises()
    expect(mock.calls['runs.pause']).toHaveBeenCalledWith({ id: 'r1' })
    expect(names(wrapper)).toEqual(['Pausing…', 'Stop'])

    detail = { ...detail, summary: { ...detail.summary, status: 'paused', resumable: true } }
    mock.emit('train.status', { runId: 'r1', status: 'paused', error: null })
    await flushPromises()
    expect(names(wrapper)).toEqual(['Resume', 'Stop'])

    await button(wrapper, 'Resume').trigger('click')
    await flushPromises()
    expect(mock.calls['runs.resume']).toHaveBeenCalledWith({ id: 'r1' })
    mock.emit('train.status', { runId: 'r1', status: 'running', error: null })
    await flushPromises()
    expect(names(wrapper)).toEqual(['Pause', 'Stop'])
  })

  it('a stopped run with a checkpoint can be resumed; a crash says why', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    const error = { code: 'crashed' as const, message: 'The trainer ran out of memory.' }
    detail = { ...detail, summary: { ...detail.summary, status: 'failed', resumable: true, error } }
    mock.emit('train.status', { runId: 'r1', status: 'failed', error })
    await flushPromises()
    expect(names(wrapper)).toEqual(['Resume'])
    expect(wrapper.find('[role="alert"]').text()).toContain('The trainer ran out of memory.')
    expect(wrapper.text()).toContain('Interrupted · resumable')
  })

  it('a finished run can train longer, up to a new total', async () => {
    detail = { ...detail, summary: { ...detail.summary, status: 'completed', step: 1000, steps: 1000 } }
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    expect(names(wrapper)).toEqual(['Train longer'])
    await button(wrapper, 'Train longer').trigger('click')
    const input = wrapper.find<HTMLInputElement>('#extend-steps')
    await input.setValue('900')
    await wrapper.find('dialog form').trigger('submit')
    expect(wrapper.find('#extend-error').text()).toMatch(/above the current step/)
    expect(mock.calls['runs.resume']).not.toHaveBeenCalled()
    await input.setValue('3000')
    await wrapper.find('dialog form').trigger('submit')
    await flushPromises()
    expect(mock.calls['runs.resume']).toHaveBeenCalledWith({ id: 'r1', steps: 3000 })
  })

  it('an unknown run shows a readable message', async () => {
    mock.handle('runs.get', () => {
      throw Object.assign(new Error('There is no run “nope”.'), { code: 'not-found' })
    })
    const { wrapper } = await mountView(RunView, { path: '/runs/nope', props: { id: 'nope' } })
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toContain('There is no run “nope”.')
  })
})
