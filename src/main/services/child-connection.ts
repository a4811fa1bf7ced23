import { StudioError, type StudioErrorShape } from '@shared/errors'
import type { ChildMessage, HostMessage, JobEvent, JobMethod, JobMethods, TrainerInit } from '../trainer/child-messages'

/** How a trainer child ended, as the platform reports it. */
export interface ChildExit {
  code: number | null
  signal: string | null
  /** The platform's own reason when it has one (Electron's child-process-gone: 'oom', 'crashed', …). */
  reason?: string
  /** The last lines the child wrote to stderr. */
  stderrTail?: string
}

/** The host's side of one trainer child. */
export interface TrainerLink {
  send(message: HostMessage): void
  onMessage(listener: (message: ChildMessage) => void): void
  onExit(listener: (exit: ChildExit) => void): void
  kill(): void
}
export type SpawnTrainer = () => TrainerLink

export interface ConnectionOptions {
  /** How long the child may take to say it is ready (loading tfjs) before it counts as crashed. */
  readyTimeoutMs: number
  /** How long the child may linger after `release` before it is killed. */
  exitGraceMs: number
  /** What the child is called in error messages ("training process", "image process"). */
  label: string
}

interface PendingJob {
  onEvent: (event: JobEvent) => void
  resolve: (output: unknown) => void
  reject: (error: StudioError) => void
}

/**
 * One trainer child from the host's side: spawn, handshake (`ready` → `init`, then the jobs sent
 * so far), jobs multiplexed by id (events routed, each settled once), and a child that dies failing
 * every job it had with a sentence saying why.
 */
export class ChildConnection {
  private link: TrainerLink | null = null
  private ready = false
  private exited = false
  private released = false
  private gone: StudioError | null = null
  private fatal: StudioErrorShape | null = null
  private readonly pending = new Map<string, PendingJob>()
  /** Messages sent before the child was ready, in order. */
  private readonly waiting: HostMessage[] = []
  private readyTimer: ReturnType<typeof setTimeout> | null = null
  private readonly goneListeners = new Set<() => void>()

  constructor(
    spawn: SpawnTrainer,
    private readonly init: TrainerInit,
    private readonly opts: ConnectionOptions
  ) {
    let link: TrainerLink
    try {
      link = spawn()
    } catch (err) {
      this.gone = new StudioError('crashed', `The ${opts.label} could not start: ${describe(err)}`)
      return
    }
    this.link = link
    this.readyTimer = setTimeout(() => {
      this.fail(new StudioError('crashed', `The ${opts.label} did not start in time.`))
      link.kill()
    }, opts.readyTimeoutMs)
    unref(this.readyTimer)
    link.onMessage((message) => this.onMessage(message))
    link.onExit((exit) => {
      this.exited = true
      this.fail(new StudioError('crashed', describeExit(exit, this.fatal, opts.label)))
    })
  }

  /** Jobs sent and not yet settled. */
  get size(): number {
    return this.pending.size
  }

  /** False once the child has died, failed to start, or been released. */
  get usable(): boolean {
    return this.gone === null && !this.released
  }

  /** Called once when the child can take no more jobs (it died or failed to start). */
  onGone(listener: () => void): void {
    if (this.gone) listener()
    else this.goneListeners.add(listener)
  }

  start<M extends JobMethod>(jobId: string, method: M, input: JobMethods[M]['input'], onEvent: (event: JobEvent) => void): Promise<JobMethods[M]['output']> {
    if (this.gone) return Promise.reject(this.gone)
    if (this.pending.has(jobId)) return Promise.reject(new StudioError('busy', `Job ${jobId} is already running.`))
    return new Promise<JobMethods[M]['output']>((resolve, reject) => {
      this.pending.set(jobId, { onEvent, resolve: resolve as (output: unknown) => void, reject })
      this.send({ type: 'job', jobId, method, input } as HostMessage)
    })
  }

  control(jobId: string, flags: { pause?: boolean; stop?: boolean }): void {
    if (this.pending.has(jobId)) this.send({ type: 'control', jobId, ...flags })
  }

  cancel(jobId: string): void {
    if (this.pending.has(jobId)) this.send({ type: 'cancel', jobId })
  }

  /** Settles a job here without waiting for the child (which may still finish it; that answer is ignored). */
  abandon(jobId: string, error: StudioError): void {
    const job = this.pending.get(jobId)
    if (!job) return
    this.pending.delete(jobId)
    job.reject(error)
  }

  /** Asks the child to exit (it stops any job left, with a checkpoint) and kills it if it lingers. */
  release(): void {
    if (this.released) return
    this.released = true
    if (this.exited || !this.link) return
    this.send({ type: 'exit' })
    const link = this.link
    const timer = setTimeout(() => {
      if (!this.exited) link.kill()
    }, this.opts.exitGraceMs)
    unref(timer)
  }

  kill(): void {
    this.link?.kill()
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready': {
        if (this.ready || this.gone) return
        this.ready = true
        if (this.readyTimer) clearTimeout(this.readyTimer)
        this.post(this.init)
        for (const m of this.waiting.splice(0)) this.post(m)
        return
      }
      case 'event':
        this.pending.get(message.jobId)?.onEvent(message.event)
        return
      case 'done':
        this.settle(message.jobId, (job) => job.resolve(message.output))
        return
      case 'failed':
        this.settle(message.jobId, (job) => job.reject(new StudioError(message.error.code, message.error.message)))
        return
      case 'fatal':
        this.fatal = message.error
        return
    }
  }

  private settle(jobId: string, fn: (job: PendingJob) => void): void {
    const job = this.pending.get(jobId)
    if (!job) return
    this.pending.delete(jobId)
    fn(job)
  }

  private fail(error: StudioError): void {
    if (this.readyTimer) clearTimeout(this.readyTimer)
    if (!this.gone) this.gone = error
    const jobs = [...this.pending.values()]
    this.pending.clear()
    for (const job of jobs) job.reject(error)
    const listeners = [...this.goneListeners]
    this.goneListeners.clear()
    for (const l of listeners) l()
  }

  private send(message: HostMessage): void {
    if (this.ready) this.post(message)
    else this.waiting.push(message)
  }

  private post(message: HostMessage): void {
    try {
      this.link?.send(message)
    } catch {
      // The child is gone; its exit settles the jobs.
    }
  }
}

/** A sentence for a trainer child that ended without finishing its job. Pure. */
export function describeExit(exit: ChildExit, fatal: StudioErrorShape | null = null, label = 'training process'): string {
  const The = `The ${label}`
  const tail = exit.stderrTail ?? ''
  const isOom = (text: string): boolean =>
    /heap out of memory|Reached heap limit|Allocation failed|out of memory|std::bad_alloc/i.test(text) || /\bOOM\b/.test(text)
  if (exit.reason === 'oom' || isOom(tail) || (fatal !== null && isOom(fatal.message))) {
    return `${The} ran out of memory. Try a smaller batch size, resolution or model width.`
  }
  if (fatal) return `${The} crashed: ${fatal.message}`
  if (exit.signal === 'SIGKILL' || exit.reason === 'killed') {
    return `${The} was killed (SIGKILL); the system may have run out of memory.`
  }
  if (exit.signal) return `${The} was ended by ${exit.signal}.`
  if (exit.reason && exit.reason !== 'clean-exit') return `${The} crashed (${exit.reason}${exit.code !== null ? `, code ${exit.code}` : ''}).`
  if (exit.code !== null && exit.code !== 0) return `${The} exited unexpectedly (code ${exit.code}).`
  return `${The} exited before finishing its job.`
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export function unref(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
