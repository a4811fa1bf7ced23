import type { BackendStatus, TrainProgress } from '@shared/contract'
import type { StudioErrorShape } from '@shared/errors'
import type { RunJson } from '@shared/runs'
import type { TrainerEvent } from './events'

/**
 * The port protocol between the trainer host (main, or `serve`) and the trainer child
 * (`out/main/trainer-process.js`, an Electron utility process or a plain Node child).
 *
 * The child says `ready` as soon as it listens; the host then sends `init` once, then jobs. A job is
 * `train` or `probe` (optionally calibrating first, which caches speeds); it streams `event`s and ends
 * with exactly one `done` or `failed`. `control` flips the cooperative pause/stop flags the training
 * loop polls between steps. Nothing here is trusted to be slow: the host throttles what it forwards.
 */

export interface TrainerInit {
  type: 'init'
  datasetsDir: string
  /** Where backend calibration results are cached (shared by every job). */
  backendCacheFile: string | null
}

export interface JobMethods {
  train: { input: { runDir: string }; output: RunJson }
  probe: { input: { calibrate?: boolean }; output: BackendStatus[] }
}
export type JobMethod = keyof JobMethods

export type StartJob = { [M in JobMethod]: { type: 'job'; jobId: string; method: M; input: JobMethods[M]['input'] } }[JobMethod]

export type HostMessage =
  | TrainerInit
  | StartJob
  | { type: 'control'; jobId: string; pause?: boolean; stop?: boolean }
  /** Finish (the host has stopped every job first) and exit. */
  | { type: 'exit' }

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'event'; jobId: string; event: TrainerEvent }
  | { type: 'done'; jobId: string; output: unknown }
  | { type: 'failed'; jobId: string; error: StudioErrorShape }
  /** Something broke outside any job (an uncaught exception); the child exits after sending it. */
  | { type: 'fatal'; error: StudioErrorShape }

/** The child's side of the port: Electron's `process.parentPort`, Node's IPC, or memory in tests. */
export interface ChildPort {
  postMessage(message: ChildMessage): void
  onMessage(listener: (message: HostMessage) => void): void
}

/** Set in the child's environment by the host, so that importing the entry elsewhere has no effect. */
export const TRAINER_CHILD_ENV = 'GAN_STUDIO_TRAINER_CHILD'

export function isHostMessage(value: unknown): value is HostMessage {
  if (typeof value !== 'object' || value === null) return false
  const type = (value as { type?: unknown }).type
  return type === 'init' || type === 'job' || type === 'control' || type === 'exit'
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false
  const type = (value as { type?: unknown }).type
  return type === 'ready' || type === 'event' || type === 'done' || type === 'failed' || type === 'fatal'
}

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
