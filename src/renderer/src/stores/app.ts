import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { Results } from '@shared/contract'
import { getBridge, isConnectionAware, type ConnectionState } from '../bridge'
import { errorCode, errorMessage } from '../lib/errors'

export type ToastKind = 'info' | 'success' | 'error'
export interface Toast {
  id: number
  kind: ToastKind
  message: string
}

const TOAST_MS: Record<ToastKind, number> = { info: 4000, success: 4000, error: 8000 }

/** App-wide state: who we are talking to, whether the connection is up, and messages for the person. */
export const useAppStore = defineStore('app', () => {
  const bridge = getBridge()
  const info = shallowRef<Results['app.info'] | null>(null)
  const connection = ref<ConnectionState>(isConnectionAware(bridge) ? bridge.connection : 'open')
  const toasts = ref<Toast[]>([])
  const reconnectHooks = new Set<() => void>()
  let nextToast = 1

  /** Browser mode (gan-studio serve) or the desktop app; known before `app.info` answers. */
  const mode = computed<'desktop' | 'browser'>(() => info.value?.mode ?? (isConnectionAware(bridge) ? 'browser' : 'desktop'))

  if (isConnectionAware(bridge)) {
    let everOpen = bridge.connection === 'open'
    let last = bridge.connection
    bridge.onConnection((state) => {
      connection.value = state
      // Events were missed while the socket was down: after a *re*-connect, every store reloads.
      if (state === 'open' && last !== 'open' && everOpen) for (const hook of reconnectHooks) hook()
      if (state === 'open') everOpen = true
      last = state
    })
  }

  function dismiss(id: number): void {
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }

  function notify(message: string, kind: ToastKind = 'info'): number {
    const id = nextToast++
    // The same message twice in a row is one toast, not a stack.
    toasts.value = [...toasts.value.filter((t) => t.message !== message), { id, kind, message }].slice(-4)
    setTimeout(() => dismiss(id), TOAST_MS[kind])
    return id
  }

  /**
   * Shows a failed bridge call as a readable message and returns that message. Connection errors
   * are already shown by the connection banner, so they are not toasted again.
   */
  function reportError(err: unknown, context?: string): string {
    const message = errorMessage(err)
    const code = errorCode(err)
    const connectionDown = connection.value !== 'open' && (code === 'io' || code === 'unauthorized')
    if (!connectionDown) notify(context ? `${context}: ${message}` : message, 'error')
    return message
  }

  /** Registers a reload to run after the connection comes back. Returns an unregister. */
  function onReconnect(hook: () => void): () => void {
    reconnectHooks.add(hook)
    return () => reconnectHooks.delete(hook)
  }

  async function load(): Promise<void> {
    try {
      info.value = await bridge['app.info']({})
    } catch (err) {
      reportError(err, 'Could not reach the studio')
    }
  }

  function fileUrl(pathInHome: string): string {
    return bridge.fileUrl(pathInHome)
  }

  return { info, mode, connection, toasts, notify, dismiss, reportError, onReconnect, load, fileUrl }
})
