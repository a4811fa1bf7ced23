import { nextTick, onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/**
 * How many modal dialogs are open. While one is, the app shell is hidden from assistive technology
 * (and from role-based queries), so "Import" in a dialog is never confused with "Import folder"
 * behind it. Dialogs render into #modal-root, outside the shell, when the app provides one.
 */
export const openModals = ref(0)

export const MODAL_ROOT_ID = 'modal-root'

export function hasModalRoot(): boolean {
  return typeof document !== 'undefined' && document.getElementById(MODAL_ROOT_ID) !== null
}

/**
 * The lifecycle every modal shares, for a component mounted with v-if around a native <dialog>:
 * counts itself in `openModals`, opens as a modal (or with `open` where showModal is missing),
 * focuses what `pickFocus` returns, and on unmount closes and gives focus back to what had it.
 */
export function useModalLifecycle(el: Ref<HTMLDialogElement | null>, pickFocus: (dialog: HTMLDialogElement) => HTMLElement | null): void {
  let returnFocus: HTMLElement | null = null
  openModals.value++
  onMounted(async () => {
    returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null
    const d = el.value
    if (!d) return
    if (typeof d.showModal === 'function') {
      try {
        d.showModal()
      } catch {
        d.setAttribute('open', '')
      }
    } else d.setAttribute('open', '')
    await nextTick()
    pickFocus(d)?.focus()
  })
  onBeforeUnmount(() => {
    openModals.value = Math.max(0, openModals.value - 1)
    const d = el.value
    if (d?.open && typeof d.close === 'function') d.close()
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus()
  })
}
