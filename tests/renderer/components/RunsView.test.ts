import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { setBridge } from '../../../src/renderer/src/bridge'
import RunsView from '../../../src/renderer/src/views/RunsView.vue'
import { createMockBridge, runSummary, type MockBridge } from '../helpers/mockBridge'
import { button, mountView } from '../helpers/mount'

let mock: MockBridge

beforeEach(() => {
  mock = createMockBridge({
    'runs.list': () => [
      runSummary({ id: 'a', name: 'Moths', status: 'completed', step: 1000, thumbnail: 'samples/step-001000.png', createdAt: '2025-02-01T00:00:00Z' }),
      runSummary({
        id: 'b',
        name: 'Crashed one',
        status: 'failed',
        resumable: true,
        error: { code: 'crashed', message: 'The trainer process died.' },
        createdAt: '2025-01-01T00:00:00Z'
      })
    ],
    'runs.delete': () => ({ ok: true }),
    'runs.rename': ({ id, name }) => runSummary({ id, name }),
    'runs.resume': ({ id }) => runSummary({ id, status: 'running' })
  })
  setBridge(mock.bridge)
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Runs library', () => {
  it('lists runs with thumbnail, status, steps and dataset', async () => {
    const { wrapper } = await mountView(RunsView, { path: '/runs' })
    await flushPromises()
    const cards = wrapper.findAll('article')
    expect(cards).toHaveLength(2)
    expect(cards[0]!.text()).toContain('Moths')
    expect(cards[0]!.text()).toContain('Finished')
    expect(cards[0]!.text()).toContain('1,000 / 1,000 steps')
    expect(cards[0]!.find('img').attributes('src')).toBe('studio://home/runs/a/samples/step-001000.png')
    expect(cards[1]!.text()).toContain('Interrupted · resumable')
    expect(cards[1]!.text()).toContain('The trainer process died.')
  })

  it('lists a damaged run with the reason and what can be recovered, and lets it be resumed', async () => {
    const reason = 'The run at /home/runs/c: run.json is invalid (createdAt: Invalid input: expected string, received number).'
    mock = createMockBridge({
      'runs.list': () => [
        runSummary({
          id: 'c',
          name: 'c',
          status: 'failed',
          resumable: true,
          error: { code: 'bad-input', message: reason },
          damaged: { reason, recovery: '3 good checkpoints (newest at step 60): resume will rebuild run.json.' }
        })
      ],
      'runs.resume': ({ id }) => runSummary({ id, status: 'running' })
    })
    setBridge(mock.bridge)
    const { wrapper } = await mountView(RunsView, { path: '/runs' })
    await flushPromises()
    const note = wrapper.find('[data-test="damaged"]')
    expect(note.text()).toContain('createdAt')
    expect(note.text()).toContain('resume will rebuild run.json')
    await button(wrapper, 'Resume c').trigger('click')
    await flushPromises()
    expect(mock.calls['runs.resume']).toHaveBeenCalledWith({ id: 'c' })
  })

  it('a crashed run can be resumed from the library', async () => {
    const { wrapper } = await mountView(RunsView, { path: '/runs' })
    await flushPromises()
    expect(wrapper.findAll('article')[0]!.findAll('button').some((b) => b.text().includes('Resume'))).toBe(false)
    await button(wrapper, 'Resume Crashed one').trigger('click')
    await flushPromises()
    expect(mock.calls['runs.resume']).toHaveBeenCalledWith({ id: 'b' })
  })

  it('asks before deleting, and Cancel keeps the run', async () => {
    const { wrapper } = await mountView(RunsView, { path: '/runs' })
    await flushPromises()
    await button(wrapper, 'Delete Moths').trigger('click')
    expect(wrapper.find('dialog').text()).toContain('Delete this run?')
    await button(wrapper, 'Cancel').trigger('click')
    expect(mock.calls['runs.delete']).not.toHaveBeenCalled()
    expect(wrapper.find('dialog').exists()).toBe(false)

    await button(wrapper, 'Delete Moths').trigger('click')
    await wrapper.find('dialog form').trigger('submit')
    await flushPromises()
    expect(mock.calls['runs.delete']).toHaveBeenCalledWith({ id: 'a' })
    expect(wrapper.findAll('article')).toHaveLength(1)
  })

  it('renames a run, refusing an empty name', async () => {
    const { wrapper } = await mountView(RunsView, { path: '/runs' })
    await flushPromises()
    await button(wrapper, 'Rename Moths').trigger('click')
    const input = wrapper.find<HTMLInputElement>('#rename-input')
    await input.setValue('   ')
    await wrapper.find('dialog form').trigger('submit')
    expect(wrapper.text()).toContain('A run needs a name.')
    expect(mock.calls['runs.rename']).not.toHaveBeenCalled()
    await input.setValue('Moths at dusk')
    await wrapper.find('dialog form').trigger('submit')
    await flushPromises()
    expect(mock.calls['runs.rename']).toHaveBeenCalledWith({ id: 'a', name: 'Moths at dusk' })
    expect(wrapper.text()).toContain('Moths at dusk')
  })
})
