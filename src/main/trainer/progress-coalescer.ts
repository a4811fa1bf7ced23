import type { TrainProgress } from '@shared/contract'
import type { JobEvent } from './child-messages'

/**
 * The one throttle for progress, applied where it is produced (the trainer child), so neither the
 * port nor the studio's events carry more than one progress event per job per interval.
 */

/**
 * Coalescing progress without losing chart points: a newer progress event replaces a pending one,
 * except that a logged metric is never dropped — a pending event with a metric is sent first when
 * the next one has its own, and otherwise its metric rides along with the newer event. Pure.
 */
export function mergeProgress(pending: TrainProgress | null, next: TrainProgress): { send: TrainProgress | null; pending: TrainProgress } {
  if (!pending) return { send: null, pending: next }
  if (pending.metric && next.metric) return { send: pending, pending: next }
  if (pending.metric && !next.metric) return { send: null, pending: { ...next, metric: pending.metric } }
  return { send: null, pending: next }
}

/**
 * Forwards one job's events, at most one progress event per `intervalMs`: the newest wins, logged
 * metrics are all kept (mergeProgress), and a pending one is sent before any other event, so order
 * is kept. `flush` sends what is pending (the job ended).
 */
export function progressCoalescer(send: (event: JobEvent) => void, intervalMs: number): { emit: (event: JobEvent) => void; flush: () => void } {
  let pending: TrainProgress | null = null
  let lastSent = -Infinity
  let timer: ReturnType<typeof setTimeout> | null = null

  const flush = (): void => {
    if (timer) clearTimeout(timer)
    timer = null
    if (pending) {
      const progress = pending
      pending = null
      lastSent = Date.now()
      send({ type: 'progress', progress })
    }
  }

  const emit = (event: JobEvent): void => {
    if (event.type !== 'progress') {
      flush()
      send(event)
      return
    }
    const merged = mergeProgress(pending, event.progress)
    if (merged.send) send({ type: 'progress', progress: merged.send })
    pending = merged.pending
    const wait = lastSent + intervalMs - Date.now()
    if (wait <= 0) flush()
    else timer ??= setTimeout(flush, wait)
  }

  return { emit, flush }
}
