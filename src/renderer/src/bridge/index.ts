import type { StudioBridge } from '@shared/contract'
import { TOKEN_PARAM, WS_PATH } from '@shared/wire'
import { createSocketBridge } from './socket'
import { resolveToken } from './token'

export type { ConnectionState, ConnectionAware } from './connection'
export { isConnectionAware } from './connection'

/**
 * Optional extras a desktop preload may add beside the contract. Feature-detected, never required.
 * `pathForFile` turns a dropped File into its path on disk (Electron's `webUtils.getPathForFile`).
 */
export interface DesktopExtras {
  pathForFile?: (file: File) => string
}

type StudioWindow = Window & { studio?: StudioBridge & DesktopExtras }

let current: StudioBridge | null = null

/** True when the preload has put `window.studio` on the page (the desktop app). */
export function hasDesktopBridge(): boolean {
  return typeof window !== 'undefined' && typeof (window as StudioWindow).studio === 'object'
}

function createBrowserBridge(): StudioBridge {
  let storage: Storage | null = null
  try {
    storage = window.sessionStorage
  } catch {
    storage = null
  }
  const token = resolveToken(window.location.search, storage) ?? ''
  return createSocketBridge({
    origin: window.location.origin,
    token,
    async isRefused() {
      if (!token) return true
      const probe = new URL(WS_PATH, window.location.origin)
      probe.searchParams.set(TOKEN_PARAM, token)
      const res = await fetch(probe, { method: 'GET', cache: 'no-store' })
      return res.status === 401 || res.status === 403
    }
  })
}

/**
 * The studio bridge: `window.studio` in the desktop app, else a WebSocket client for
 * `gan-studio serve`. Only Pinia stores call this.
 */
export function getBridge(): StudioBridge {
  if (!current) current = hasDesktopBridge() ? (window as StudioWindow).studio! : createBrowserBridge()
  return current
}

/** Replaces the bridge (tests mock it at the store boundary). `null` goes back to the default. */
export function setBridge(bridge: StudioBridge | null): void {
  current = bridge
}

/** The dropped file's path on disk, where the desktop preload can tell it; else null. */
export function pathForDroppedFile(file: File): string | null {
  const studio = hasDesktopBridge() ? (window as StudioWindow).studio : undefined
  try {
    const viaPreload = studio?.pathForFile?.(file)
    if (viaPreload) return viaPreload
  } catch {
    // fall through to the legacy property
  }
  const legacy = (file as File & { path?: unknown }).path
  return typeof legacy === 'string' && legacy.length > 0 ? legacy : null
}
