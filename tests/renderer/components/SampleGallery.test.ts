import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import type { SampleSnapshot } from '@shared/runs'
import SampleGallery from '../../../src/renderer/src/components/SampleGallery.vue'

const snap = (step: number): SampleSnapshot => ({ runId: 'r', step, file: `samples/step-${step}.png` })
const props = (samples: SampleSnapshot[]) => ({ samples, urlFor: (s: SampleSnapshot) => `u/${s.step}`, resolution: 32, sampleEvery: 10, live: true })

afterEach(() => {
  document.body.innerHTML = ''
})

describe('SampleGallery', () => {
  it('follows the newest snapshot until the person scrubs back', async () => {
    const w = mount(SampleGallery, { props: props([snap(10), snap(20)]), attachTo: document.body })
    expect(w.find('img').attributes('src')).toBe('u/20')
    await w.setProps(props([snap(10), snap(20), snap(30)]))
    expect(w.find('img').attributes('src')).toBe('u/30')

    const slider = w.find<HTMLInputElement>('input[type="range"]')
    await slider.setValue('0')
    expect(w.find('img').attributes('src')).toBe('u/10')
    expect(slider.attributes('aria-valuetext')).toBe('Step 10, snapshot 1 of 3')
    // A new snapshot does not yank the view away from what is being looked at…
    await w.setProps(props([snap(10), snap(20), snap(30), snap(40)]))
    expect(w.find('img').attributes('src')).toBe('u/10')
    // …until "Latest" is pressed.
    await w.findAll('button').find((b) => b.text() === 'Latest')!.trigger('click')
    expect(w.find('img').attributes('src')).toBe('u/40')
  })

  it('says when the first samples will appear', () => {
    const w = mount(SampleGallery, { props: props([]) })
    expect(w.text()).toContain('The first samples appear at step 10.')
    expect(w.find<HTMLInputElement>('input[type="range"]').element.disabled).toBe(true)
  })

  it('a click enlarges the grid; arrow keys step through snapshots; Escape closes', async () => {
    const w = mount(SampleGallery, { props: props([snap(10), snap(20), snap(30)]), attachTo: document.body })
    await w.find('button.frame').trigger('click')
    const dialog = w.find('dialog.lightbox')
    expect(dialog.exists()).toBe(true)
    expect(dialog.find('img').attributes('src')).toBe('u/30')
    await dialog.trigger('keydown', { key: 'ArrowLeft' })
    expect(w.find('dialog.lightbox img').attributes('src')).toBe('u/20')
    expect(w.find('.frame img').attributes('src')).toBe('u/20')
    await w.find('dialog.lightbox').trigger('cancel')
    expect(w.find('dialog.lightbox').exists()).toBe(false)
  })
})
