import type { StudioBridge } from '../shared/contract'

declare global {
  interface Window {
    /** Put there by the desktop preload; absent in a browser (which speaks to `gan-studio serve`). */
    studio?: StudioBridge & { pathForFile?: (file: File) => string }
  }
}

export {}
