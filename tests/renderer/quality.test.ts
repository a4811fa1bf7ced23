import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { RunConfigSchema } from '@shared/config'
import type { NearestImagesResult, Results } from '@shared/contract'
import type { QualityPoint, QualityScores } from '@shared/runs'
import { setBridge } from '../../src/renderer/src/bridge'
import { qualityAlerts, withQuality } from '../../src/renderer/src/lib/quality'
import GenerateView from '../../src/renderer/src/views/GenerateView.vue'
import RunView from '../../src/renderer/src/views/RunView.vue'
import { createMockBridge, metric, runJson, runSummary, type MockBridge } from './helpers/mockBridge'
import { button, byLabel, mountView } from './helpers/mount'

const png = 'data:image/png;base64,iVBORw0KGgo='
const healthy: QualityScores = { swd: 30, kid: 0.2, variety: 0.95, memorisation: 1.1, count: 64 }
const point = (step: number, q: Partial<QualityScores> = {}): QualityPoint => ({ ...healthy, ...q, step, imagesSeen: step * 32 })
const config = RunConfigSchema.parse({ source: '/x' })

describe('quality points and alerts', () => {
  it('adds measured records, skips the others and rewinds when a run resumes from an older checkpoint', () => {
    let pts: QualityPoint[] = []
    pts = withQuality(pts, metric(500, { quality: healthy }))
    pts = withQuality(pts, metric(510))
    pts = withQuality(pts, metric(1000, { quality: { ...healthy, swd: 20 } }))
    expect(pts.map((p) => [p.step, p.swd])).toEqual([[500, 30], [1000, 20]])
    pts = withQuality(pts, metric(800)) // resumed from step 790
    expect(pts.map((p) => p.step)).toEqual([500])
  })

  it('says nothing while the samples look healthy, or before the first measurement', () => {
    expect(qualityAlerts([], config)).toEqual([])
    expect(qualityAlerts([point(500)], config)).toEqual([])
  })

  it('warns of collapse in plain words, with what to try and the step where variety was last good', () => {
    const alerts = qualityAlerts([point(500, { variety: 0.9 }), point(1000, { variety: 0.12 })], config)
    expect(alerts).toHaveLength(1)
    expect(alerts[0]!.title).toBe('The samples all look alike: the generator may be collapsing.')
    expect(alerts[0]!.detail).toMatch(/Variety is 0\.12 at step 1,000/)
    expect(alerts[0]!.tips.join(' ')).toMatch(/augmentation/)
    expect(alerts[0]!.tips.join(' ')).toMatch(/Variety was 0\.90 at step 500/)
    // with augmentation and minibatch stddev already on, those are not suggested
    const tuned = RunConfigSchema.parse({ source: '/x', augment: { color: true, translation: true, cutout: true }, model: { mbstd: true } })
    expect(qualityAlerts([point(1000, { variety: 0.1 })], tuned)[0]!.tips.join(' ')).not.toMatch(/augmentation|minibatch/)
  })

  it('warns when samples copy training images', () => {
    const alerts = qualityAlerts([point(2000, { memorisation: 0.05 })], config)
    expect(alerts.map((a) => a.kind)).toEqual(['copies'])
    expect(alerts[0]!.title).toBe('Samples are close copies of training images.')
    expect(alerts[0]!.tips.join(' ')).toMatch(/Nearest training images/)
  })
})

const nearest: NearestImagesResult = {
  query: png,
  typicalDistance: 0.2,
  datasetName: 'Moths',
  matches: [
    { image: 4, file: 'a/moth-4.png', url: png, mirrored: false, distance: 0.01 },
    { image: 9, file: 'moth-9.png', url: png, mirrored: true, distance: 0.15 },
    { image: 2, file: null, url: png, mirrored: false, distance: 0.3 }
  ]
}

let mock: MockBridge
let detail: Results['runs.get']
beforeEach(() => {
  detail = {
    run: runJson({ id: 'r1', name: 'Night moths' }),
    summary: runSummary({ id: 'r1', name: 'Night moths', status: 'running', step: 1000, steps: 5000 }),
    samples: [{ runId: 'r1', step: 1000, file: 'samples/step-001000.png' }]
  }
  mock = createMockBridge({
    'runs.list': () => [runSummary({ id: 'r1', name: 'Night moths', status: 'completed', step: 1000 })],
    'runs.get': () => detail,
    'runs.metrics': () => [metric(490), metric(500, { quality: { ...healthy, variety: 0.8 } }), metric(990), metric(1000, { quality: { ...healthy, variety: 0.1 } })],
    'quality.nearest': () => nearest,
    'generate.checkpoints': () => [{ name: 'step-001000', step: 1000 }],
    'generate.favorites': () => ({ seeds: [] }),
    'generate.images': ({ seeds }) => ({
      images: seeds.map((seed) => ({ seed, url: png, file: seed === 2 ? 'exports/images/step-001000-psi1.00/seed-000002.png' : null })),
      sheet: null,
      dir: null,
      checkpoint: 'step-001000',
      step: 1000
    })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('Run view: quality', () => {
  it('draws the Quality chart beside the losses and raises the collapse alert', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    const chart = wrapper.find('[role="region"][aria-label="Quality chart"]')
    expect(chart.attributes('data-points')).toBe('2')
    expect(chart.find('canvas').attributes('aria-label')).toMatch(/2 measurements up to step 1,000.*variety 0\.100/)
    expect(chart.text()).toMatch(/SWD\s*30\.000/)
    // the loss chart still has every logged point
    expect(wrapper.find('[aria-label="Loss chart"]').attributes('data-points')).toBe('4')
    const alert = wrapper.find('[aria-label="Quality alerts"] [data-kind="collapse"]')
    expect(alert.text()).toContain('The samples all look alike: the generator may be collapsing.')
    expect(alert.text()).toContain('What to try')
    expect(alert.text()).toContain('Variety was 0.80 at step 500')
  })

  it('takes new measurements live; the alert goes away when variety recovers', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    mock.emit('train.progress', { runId: 'r1', step: 1500, steps: 5000, imagesPerSec: 30, etaMs: 1000, metric: metric(1500, { quality: { ...healthy, memorisation: 0.05 } }) })
    await flushPromises()
    expect(wrapper.find('[aria-label="Quality chart"]').attributes('data-points')).toBe('3')
    expect(wrapper.find('[data-kind="collapse"]').exists()).toBe(false)
    expect(wrapper.find('[data-kind="copies"]').text()).toContain('Samples are close copies of training images.')
  })

  it('shows the three nearest training images of a sample picked in the gallery', async () => {
    const { wrapper } = await mountView(RunView, { path: '/runs/r1', props: { id: 'r1' } })
    await flushPromises()
    await button(wrapper, /Nearest training images/).trigger('click')
    const picker = wrapper.find('[role="group"][aria-label="Pick a sample at step 1,000"]')
    expect(picker.findAll('button')).toHaveLength(36)
    await button(wrapper, 'Sample 8').trigger('click')
    await flushPromises()
    expect(mock.calls['quality.nearest']).toHaveBeenCalledWith({ id: 'r1', image: { step: 1000, index: 7 }, count: 3 })
    const text = document.body.textContent ?? ''
    expect(text).toContain('Nearest training images · sample 8 at step 1,000')
    expect(text).toContain('a/moth-4.png')
    expect(text).toContain('near copy')
    expect(text).toContain('mirrored')
    expect(text).toContain('typically 0.200 away')
    const imgs = [...document.body.querySelectorAll('img')].map((i) => i.getAttribute('alt'))
    expect(imgs).toEqual(expect.arrayContaining(['sample 8 at step 1,000, as compared', 'Training image a/moth-4.png', 'Training image moth-9.png (mirrored)', 'Training image image 3']))
  })
})

describe('Generate view: nearest training images', () => {
  it('asks with the saved file when there is one, else with the preview', async () => {
    const { wrapper } = await mountView(GenerateView, { path: '/generate' })
    await flushPromises()
    await byLabel(wrapper, 'Seeds').setValue('1-2')
    await wrapper.find('form[aria-label="Generate images"]').trigger('submit')
    await flushPromises()
    await button(wrapper, 'Nearest training images to seed 1').trigger('click')
    await flushPromises()
    expect(mock.calls['quality.nearest']).toHaveBeenLastCalledWith({ id: 'r1', image: { png }, count: 3 })
    expect(document.body.textContent).toContain('Nearest training images · seed 1')
    await button(wrapper, 'Nearest training images to seed 2').trigger('click')
    await flushPromises()
    expect(mock.calls['quality.nearest']).toHaveBeenLastCalledWith({ id: 'r1', image: { file: 'exports/images/step-001000-psi1.00/seed-000002.png' }, count: 3 })
  })
})
