import { ref } from 'vue'

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
