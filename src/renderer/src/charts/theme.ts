/** Reads a CSS custom property from the document (so charts follow the light/dark theme). */
export function cssVar(name: string, fallback = '#888888'): string {
  if (typeof document === 'undefined' || typeof getComputedStyle !== 'function') return fallback
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return v || fallback
}

/** `#rrggbb` or `#rgb` with an alpha, as rgba(); other colour strings are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())
  if (!m) return color
  let hex = m[1]!
  if (hex.length === 3) hex = hex.replace(/./g, (c) => c + c)
  const n = parseInt(hex, 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

/** Calls `cb` when the system switches between light and dark. Returns an unsubscribe. */
export function onThemeChange(cb: () => void): () => void {
  if (typeof window === 'undefined' || typeof window.matchMedia !== 'function') return () => {}
  const mq = window.matchMedia('(prefers-color-scheme: dark)')
  const handler = (): void => cb()
  mq.addEventListener?.('change', handler)
  return () => mq.removeEventListener?.('change', handler)
}

/** A canvas's 2D context, or null where there is none (a test DOM): callers keep their text summary. */
export function chartContext(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return canvas.getContext('2d')
  } catch {
    return null
  }
}

/** Options every line chart in the studio shares: pre-parsed {x, y} points, no animation, sized by CSS. */
export const LINE_CHART_BASE = {
  animation: false,
  parsing: false,
  normalized: true,
  responsive: true,
  maintainAspectRatio: false,
  interaction: { mode: 'nearest', axis: 'x', intersect: false }
} as const
