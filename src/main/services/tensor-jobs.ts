import { StudioError } from '@shared/errors'
import type { JobEvent, JobMethods, TensorJobMethod, TrainerInit } from '../trainer/child-messages'
import { ChildConnection, unref, type SpawnTrainer } from './child-connection'

export interface TensorJobsOptions {
  spawn: SpawnTrainer
  init: TrainerInit
  /** How long the child may take to say it is ready (loading tfjs). */
  readyTimeoutMs?: number
  /** How long the child may linger after it was asked to exit before it is killed. */
  exitGraceMs?: number
  /** The child is kept this long after its last job (the next preview starts warm), then exits. */
  idleMs?: number
  /** A cancelled job whose child has not answered after this long is settled as cancelled here. */
  cancelGraceMs?: number
}

export interface RunJobOptions {
  /** The caller's name for the job, to cancel it by (unique among running jobs). */
  jobId?: string
  onEvent?: (event: JobEvent) => void
}

/**
 * Generate, walk, export and the explore tools' images for the studio: tensor jobs run in a trainer child, never in the
 * studio's own process (the Electron main process or `serve`), so every window and request keeps
 * being answered while frames render. One child serves them all, several at a time, and stays warm
 * for `idleMs` after the last one; training has children of its own (TrainerHost). A job can be
 * cancelled by the caller's id: the child stops it at its next check and writes nothing more.
 */
export class TensorJobs {
  private readonly opts: Required<TensorJobsOptions>
  private conn: ChildConnection | null = null
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  private nextId = 1
  private closed = false
  /** Running jobs by the caller's id. */
  private readonly running = new Map<string, { internalId: string; conn: ChildConnection; cancelled: boolean }>()

  constructor(options: TensorJobsOptions) {
    this.opts = { readyTimeoutMs: 120_000, exitGraceMs: 5_000, idleMs: 60_000, cancelGraceMs: 3_000, ...options }
  }

  async run<M extends TensorJobMethod>(method: M, input: JobMethods[M]['input'], options: RunJobOptions = {}): Promise<JobMethods[M]['output']> {
    if (this.closed) throw new StudioError('busy', 'The studio is shutting down.')
    const internalId = `${method}-${this.nextId++}`
    const jobId = options.jobId ?? internalId
    if (this.running.has(jobId)) throw new StudioError('busy', `A job called ${jobId} is already running.`)
    const conn = this.connection()
    const entry = { internalId, conn, cancelled: false }
    this.running.set(jobId, entry)
    try {
      return await conn.start(internalId, method, input, options.onEvent ?? (() => undefined))
    } catch (err) {
      if (entry.cancelled) throw new StudioError('cancelled', cancelledMessage(method))
      throw err
    } finally {
      this.running.delete(jobId)
      this.idleCheck(conn)
    }
  }

  /** Cancels a running job by the caller's id; false when there is none. */
  cancel(jobId: string): boolean {
    const entry = this.running.get(jobId)
    if (!entry) return false
    if (entry.cancelled) return true
    entry.cancelled = true
    entry.conn.cancel(entry.internalId)
    const timer = setTimeout(() => entry.conn.abandon(entry.internalId, new StudioError('cancelled', 'Cancelled.')), this.opts.cancelGraceMs)
    unref(timer)
    return true
  }

  /** Jobs running now (the callers' ids). */
  jobs(): string[] {
    return [...this.running.keys()]
  }

  /** Quitting: every job is cancelled and the child asked to exit. */
  async shutdown(): Promise<void> {
    this.closed = true
    for (const jobId of [...this.running.keys()]) this.cancel(jobId)
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.conn?.release()
    this.conn = null
  }

  private connection(): ChildConnection {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    if (this.conn?.usable) return this.conn
    const conn = new ChildConnection(this.opts.spawn, this.opts.init, {
      readyTimeoutMs: this.opts.readyTimeoutMs,
      exitGraceMs: this.opts.exitGraceMs,
      label: 'image-making process'
    })
    conn.onGone(() => {
      if (this.conn === conn) this.conn = null
    })
    this.conn = conn
    return conn
  }

  /** Releases the child once it has been idle for idleMs. */
  private idleCheck(conn: ChildConnection): void {
    if (conn !== this.conn) {
      if (conn.size === 0) conn.release()
      return
    }
    if (conn.size > 0 || this.idleTimer) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (this.conn === conn && conn.size === 0) {
        this.conn = null
        conn.release()
      }
    }, this.opts.idleMs)
    unref(this.idleTimer)
  }
}

const CANCELLED: Record<TensorJobMethod, string> = {
  generate: 'Generating was cancelled.',
  walk: 'The walk was cancelled.',
  export: 'The export was cancelled.',
  render: 'Rendering was cancelled.',
  variations: 'The variations were cancelled.',
  exportCollection: 'The export was cancelled.',
  directions: 'Finding the directions was cancelled.',
  find: 'Finding the image was cancelled.'
}

function cancelledMessage(method: TensorJobMethod): string {
  return CANCELLED[method]
}
