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
    summary: runSummary({ id: 'r1', name: 'Night moths', status: 'completed', step: 30, steps: 30 }),
    samples: [
      { runId: 'r1', step: 10, file: 'samples/step-000010.png' },
      { runId: 'r1', step: 20, file: 'samples/step-000020.png' }
    ]
  }
  mock = createMockBridge({
    'runs.list': () => [detail.summary],
    'runs.get': () => detail,
    'runs.metrics': () => [metric(10), metric(20)]
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Timelapse from the run view', () => {
  it('asks for one cell as WebP, shows progress, then the animation', async () => {
    let finish: (r: Results['explore.timelapse']) => void = () => {}
    mock.handle('explore.timelapse', () => new Promise((res) => (finish = res)))
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    await button(wrapper, 'Timelapse').trigger('click')
    await wrapper.find('#lapse-what').setValue('cell')
    await wrapper.find('#lapse-cell').setValue('4')
    await wrapper.find('#lapse-cell').trigger('change')
    await wrapper.find('#lapse-format').setValue('webp')
    await wrapper.find('dialog form').trigger('submit')
    await flushPromises()
    const params = mock.calls['explore.timelapse'].mock.calls[0]![0] as { jobId: string }
    expect(params).toMatchObject({ id: 'r1', cell: 4, format: 'webp', fps: 6 })
    mock.emit('jobs.progress', { jobId: params.jobId, kind: 'timelapse', done: 1, total: 2, label: 'Reading sample grids' })
    await flushPromises()
    expect(wrapper.find('[aria-label="Timelapse progress"]').attributes('aria-valuetext')).toBe('Reading sample grids: 1 of 2')
    finish({ file: 'exports/timelapse/timelapse-cell-4.webp', frames: 2, steps: [10, 20] })
    await flushPromises()
    expect(wrapper.find('.lapse-result img').attributes('src')).toBe('studio://home/runs/r1/exports/timelapse/timelapse-cell-4.webp')
    expect(wrapper.find('.lapse-result').text()).toContain('steps 10–20')
  })

  it('has no timelapse button before the first sample grid', async () => {
    detail = { ...detail, samples: [] }
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    expect(wrapper.findAll('button').some((b) => b.text().includes('Timelapse'))).toBe(false)
  })
})
