import type { LogLine, TrainProgress } from '@shared/contract'
import type { StudioErrorShape } from '@shared/errors'
import type { RunStatus, SampleSnapshot } from '@shared/runs'

/** What a training job reports while it runs; the host forwards these as contract events. */
export type TrainerEvent =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'sample'; sample: SampleSnapshot }
  | { type: 'status'; runId: string; status: RunStatus; error: StudioErrorShape | null }
  | { type: 'log'; line: LogLine }

/**
 * Cooperative control, checked between steps. `stop` checkpoints and ends the run as `stopped`;
 * `pause` checkpoints and waits (status `paused`) until `pause` is cleared or `stop` is set.
 */
export interface TrainControl {
  stop: boolean
  pause: boolean
}
