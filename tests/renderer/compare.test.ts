import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { CompareResult } from '@shared/contract'
import type { QualityPoint } from '@shared/runs'
import { setBridge } from '../../src/renderer/src/bridge'
import { nearestStep, parseTags, seriesPoints, useCompareStore } from '../../src/renderer/src/stores/compare'
import CompareView from '../../src/renderer/src/views/CompareView.vue'
import { createMockBridge, metric, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, mountView } from './helpers/mount'

let mock: MockBridge

function qualityPoint(step: number, swd: number): QualityPoint {
  return { step, imagesSeen: step * 32, swd, kid: 0.1, variety: 0.9, memorisation: 1.1, count: 64 }
}

function comparison(ids: string[]): CompareResult {
  return {
    runs: ids.map((id) => runSummary({ id, name: `Run ${id}`, status: 'completed', step: 300, tags: id === 'a' ? ['baseline'] : [] })),
    step: 200,
    configDiff: [
      { key: 'batchSize', values: ids.map((_, i) => 32 * (i + 1)) },
      { key: 'loss.type', values: ids.map((_, i) => (i === 0 ? 'nonsaturating' : 'hinge')) }
    ],
    metrics: ids.map(() => [metric(100), metric(200), metric(300)]),
    sampleSteps: ids.map((id) => (id === 'a' ? [0, 100, 200, 300] : [0, 150, 300])),
    grids: ids.map(() => ({ step: 200, file: 'samples/step-000200.png' })),
    quality: ids.map((_, i) => [qualityPoint(100, 60 - i), qualityPoint(300, 30 + i * 10)]),
    summary: ids.map((id, i) => ({
      id,
      name: `Run ${id}`,
      steps: 300,
      imagesSeen: 9600,
      trainingMs: 60_000 * (i + 1),
      imagesPerSec: 160 / (i + 1),
      finalGLoss: 1.25,
      finalDLoss: 0.5,
      quality: i === 0 ? null : qualityPoint(300, 30 + i * 10)
    }))
  }
}

beforeEach(() => {
  mock = createMockBridge({
    'runs.list': () => ['a', 'b', 'c'].map((id, i) => runSummary({ id, name: `Run ${id}`, status: 'completed', step: 300, createdAt: `2025-01-0${i + 1}T00:00:00Z` })),
    'compare.runs': ({ ids }) => comparison(ids),
    'runs.update': ({ id, tags, note }) => runSummary({ id, name: `Run ${id}`, status: 'completed', tags: tags ?? [], note: note ?? '' })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('compare helpers', () => {
  it('aligns curves by step or images seen, finds the nearest grid step and reads tags', () => {
    const recs = [metric(10), metric(20)]
    expect(seriesPoints(recs, 'gLoss', 'step').map((p) => p.x)).toEqual([10, 20])
    expect(seriesPoints(recs, 'dLoss', 'imagesSeen').map((p) => p.x)).toEqual([320, 640])
    expect(nearestStep([0, 150, 300], 200)).toBe(150)
    expect(nearestStep([], 5)).toBeNull()
    expect(parseTags(' hinge, , baseline,hinge ')).toEqual(['hinge', 'baseline'])
  })
})

describe('compare store', () => {
  it('compares 2 to 6 runs only', async () => {
    const cmp = useCompareStore()
    cmp.toggle('a')
    expect(cmp.canCompare).toBe(false)
    expect(await cmp.compare()).toBe(false)
    for (const id of ['b', 'c', 'd', 'e', 'f', 'g']) cmp.toggle(id)
    expect(cmp.selected).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    cmp.toggle('a')
    cmp.toggle('b')
    expect(await cmp.compare()).toBe(true)
    expect(mock.calls['compare.runs']).toHaveBeenLastCalledWith({ ids: ['c', 'd', 'e', 'f'] })
  })

  it('shows each run’s grid nearest the chosen step', async () => {
    const cmp = useCompareStore()
    cmp.selected = ['a', 'b']
    await cmp.compare()
    expect(cmp.step).toBe(200)
    expect(cmp.grids.map((g) => g.step)).toEqual([200, 150])
    expect(cmp.grids[1]!.url).toBe('studio://home/runs/b/samples/step-000150.png')
    cmp.step = 300
    expect(cmp.grids.map((g) => g.step)).toEqual([300, 300])
    expect(cmp.gridSteps).toEqual([0, 100, 150, 200, 300])
  })

  it('saves tags and a note through runs.update and shows the new summary', async () => {
    const cmp = useCompareStore()
    cmp.selected = ['a', 'b']
    await cmp.compare()
    expect(await cmp.updateMeta('b', { tags: ['hinge'], note: 'sharper edges' })).toBe(true)
    expect(mock.calls['runs.update']).toHaveBeenLastCalledWith({ id: 'b', tags: ['hinge'], note: 'sharper edges' })
    expect(cmp.result!.runs[1]).toMatchObject({ tags: ['hinge'], note: 'sharper edges' })
  })
})

describe('Compare view', () => {
  it('picks runs, shows the summary, only the differing settings, grids at a step, and edits tags', async () => {
    const { wrapper, router } = await mountView(CompareView, { path: '/compare' })
    await flushPromises()
    const boxes = wrapper.findAll('input[type="checkbox"]')
    expect(boxes).toHaveLength(3)
    expect(button(wrapper, /Compare/).attributes('disabled')).toBeDefined()
    await boxes[0]!.setValue(true)
    await boxes[1]!.setValue(true)
    await wrapper.find('form.picker').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.query.runs).toBe('c,b')

    const diff = wrapper.findAll('table')[1]!
    expect(diff.findAll('tbody th').map((th) => th.text())).toEqual(['batchSize', 'loss.type'])
    expect(diff.findAll('tbody tr')[1]!.findAll('td').map((td) => td.text())).toEqual(['nonsaturating', 'hinge'])
    const summary = wrapper.findAll('table')[0]!
    expect(summary.findAll('tbody tr')).toHaveLength(2)
    expect(summary.text()).toContain('1 min 00 s')
    expect(wrapper.find('[aria-label="Loss comparison chart"]').exists()).toBe(true)
    expect(wrapper.find('#cmp-align').findAll('option').map((o) => o.text())).toEqual(['Step', 'Images seen'])

    const grids = wrapper.find('[aria-label="Sample grids"]')
    expect(grids.findAll('img').map((i) => i.attributes('alt'))).toEqual(['Run c: sample grid at step 150', 'Run b: sample grid at step 150'])
    const slider = wrapper.find('#cmp-step')
    await slider.setValue('0')
    expect(grids.findAll('img').map((i) => i.attributes('src'))).toEqual([
      'studio://home/runs/c/samples/step-000000.png',
      'studio://home/runs/b/samples/step-000000.png'
    ])

    await wrapper.find('input[aria-label="Tags for Run b"]').setValue('hinge, try 2')
    await wrapper.find('textarea[aria-label="Note for Run b"]').setValue('Better hair.')
    await button(wrapper, 'Save tags and note for Run b').element.closest('form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(mock.calls['runs.update']).toHaveBeenLastCalledWith({ id: 'b', tags: ['hinge', 'try 2'], note: 'Better hair.' })
  })

  it('overlays the runs’ quality measurements, one measure at a time, and lists the newest SWD and variety', async () => {
    const { wrapper } = await mountView(CompareView, { path: '/compare' })
    await flushPromises()
    const boxes = wrapper.findAll('input[type="checkbox"]')
    await boxes[0]!.setValue(true)
    await boxes[1]!.setValue(true)
    await wrapper.find('form.picker').trigger('submit')
    await flushPromises()
    const summary = wrapper.findAll('table')[0]!
    expect(summary.findAll('thead th').map((th) => th.text())).toContain('SWD')
    const rows = summary.findAll('tbody tr').map((tr) => tr.findAll('td').map((td) => td.text()))
    expect(rows[0]).toContain('—') // run c: no measurement
    expect(rows[1]).toContain('40.0') // run b
    const quality = wrapper.find('[aria-label="Quality comparison chart"]')
    expect(quality.exists()).toBe(true)
    expect(quality.findAll('#cmp-measure option').map((o) => o.text())).toEqual(['SWD', 'KID', 'Variety', 'Memorisation'])
    expect(quality.find('canvas').attributes('aria-label')).toMatch(/Run c: swd 30\.0.* at step 300; Run b: swd 40\.0/)
    await quality.find('#cmp-measure').setValue('variety')
    expect(quality.find('canvas').attributes('aria-label')).toMatch(/Run c: variety 0\.900/)
    expect(quality.text()).toMatch(/near 0 is collapse/)
  })
})
