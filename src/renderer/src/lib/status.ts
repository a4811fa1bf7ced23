import type { RunStatus } from '@shared/runs'

export const STATUS_LABELS: Record<RunStatus, string> = {
  running: 'Training',
  paused: 'Paused',
  stopped: 'Stopped',
  completed: 'Finished',
  failed: 'Failed'
}

/** The status as a person reads it; a failed run that can continue says so. */
export function statusLabel(status: RunStatus | null, resumable = false): string {
  if (!status) return 'Loading'
  if (status === 'failed' && resumable) return 'Interrupted · resumable'
  if (status === 'stopped' && resumable) return 'Stopped · resumable'
  return STATUS_LABELS[status]
}
