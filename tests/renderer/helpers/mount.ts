import { mount, type VueWrapper, type DOMWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import type { Component } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import { createStudioRouter } from '../../../src/renderer/src/router'

/** Mounts a view with a fresh Pinia and an in-memory router at `path`. */
export async function mountView(
  component: Component,
  opts: { path?: string; props?: Record<string, unknown> } = {}
): Promise<{ wrapper: VueWrapper; router: Router; pinia: Pinia }> {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createStudioRouter(createMemoryHistory())
  await router.push(opts.path ?? '/')
  await router.isReady()
  const wrapper = mount(component, {
    props: opts.props,
    attachTo: document.body,
    global: { plugins: [pinia, router] }
  })
  return { wrapper, router, pinia }
}

/** The form control whose <label> text is exactly `text`. */
export function byLabel(wrapper: VueWrapper, text: string): DOMWrapper<HTMLInputElement> {
  const label = wrapper.findAll('label').find((l) => l.text().trim() === text)
  if (!label) throw new Error(`no label "${text}"`)
  const id = label.attributes('for')
  if (id) return wrapper.find<HTMLInputElement>(`[id="${id}"]`)
  return label.find<HTMLInputElement>('input, select, textarea')
}

/** The button whose visible text or aria-label is `name`. */
export function button(wrapper: VueWrapper, name: string | RegExp): DOMWrapper<HTMLButtonElement> {
  const match = (s: string) => (typeof name === 'string' ? s.trim() === name : name.test(s.trim()))
  const found = wrapper.findAll<HTMLButtonElement>('button').find((b) => match(b.attributes('aria-label') ?? b.text()))
  if (!found) throw new Error(`no button "${String(name)}"`)
  return found
}
