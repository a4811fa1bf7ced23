export interface GridWindow {
  /** First and one-past-last item index to render. */
  start: number
  end: number
  /** Pixel offset of the first rendered row. */
  offsetTop: number
  totalHeight: number
  columns: number
}

/**
 * Which items of a grid of equal cells are on screen (plus `overscanRows` rows either side), so a
 * grid of 50,000 images renders a few dozen elements.
 */
export function gridWindow(opts: {
  total: number
  width: number
  cellWidth: number
  rowHeight: number
  gap: number
  scrollTop: number
  viewportHeight: number
  overscanRows?: number
}): GridWindow {
  const { total, width, cellWidth, rowHeight, gap, scrollTop, viewportHeight } = opts
  const overscan = opts.overscanRows ?? 2
  const columns = Math.max(1, Math.floor((width + gap) / (cellWidth + gap)))
  const rows = Math.ceil(total / columns)
  const stride = rowHeight + gap
  const totalHeight = rows > 0 ? rows * stride - gap : 0
  if (total <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight: 0, columns }
  const firstRow = Math.max(0, Math.floor(scrollTop / stride) - overscan)
  const lastRow = Math.min(rows - 1, Math.ceil((scrollTop + viewportHeight) / stride) + overscan)
  return {
    start: firstRow * columns,
    end: Math.min(total, (lastRow + 1) * columns),
    offsetTop: firstRow * stride,
    totalHeight,
    columns
  }
}
