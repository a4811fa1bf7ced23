import type { BackendStatus, LogLine } from '@shared/contract'
import { StudioError, type StudioErrorShape, toErrorShape } from '@shared/errors'
import type { RunJson } from '@shared/runs'
import type { JobEvent, TrainerInit } from '../trainer/child-messages'
import { ChildConnection, unref, type SpawnTrainer } from './child-connection'
import type { EventSink } from './events'
import { LogLimiter } from './log-limiter'

/**
 * The trainer host: runs training jobs one at a time, each in its own trainer child (an Electron
 * utility process in the desktop app, a plain Node child under `serve`, an in-memory port in tests),
 * queues the rest, forwards the child's events as contract events (the child throttles progress;
 * log floods are limited here), passes
 * pause/resume/stop through as cooperative flags, and turns a child that dies into a run marked
 * `failed` with the reason — resumable from its last checkpoint.
 */

/** What the host needs of the run library: read a run.json, patch it atomically. */
export interface RunStore {
  readRun(dir: string): Promise<RunJson>
  updateRun(dir: string, patch: Partial<RunJson>): Promise<RunJson>
}

export interface TrainerHostOptions {
  spawn: SpawnTrainer
  emit: EventSink
  store: RunStore
  datasetsDir: string
  backendCacheFile: string | null
  /** At most one progress event per run per this many ms (default 100: ≤ 10/s), applied by the child. */
  progressIntervalMs?: number
  /** At most this many log lines per second are forwarded; the rest are counted (default 20). */
  logLinesPerSecond?: number
  /** How long a child may take to say it is ready (loading tfjs) before it counts as crashed. */
  readyTimeoutMs?: number
  /** How long a child may linger after its job before it is killed. */
  exitGraceMs?: number
}

export type JobState = 'queued' | 'starting' | 'running' | 'paused' | 'stopping'

export interface JobView {
  runId: string
  state: JobState
  /** 0 for the job that is running, 1… for its place in the queue. */
  position: number
  /** The newest step the job reported (run.json only catches up at checkpoints). */
  step: number | null
}

/** How a job ended. */
export type JobOutcome =
  | { kind: 'done'; run: RunJson }
  | { kind: 'failed'; error: StudioErrorShape }
  | { kind: 'cancelled' }

interface Job {
  jobId: string
  runId: string
  runDir: string
  state: JobState
  session: ChildConnection | null
  pause: boolean
  stop: boolean
  step: number | null
  ended: Promise<JobOutcome>
  end(outcome: JobOutcome): void
}

export class TrainerHost {
  private readonly opts: Required<Omit<TrainerHostOptions, 'backendCacheFile'>> & { backendCacheFile: string | null }
  private readonly queue: Job[] = []
  private current: Job | null = null
  private nextJob = 1
  private closed = false
  private probeCache: BackendStatus[] | null = null
  private probing: Promise<BackendStatus[]> | null = null
  private readonly logs: LogLimiter
  /** Called after any job changes state or ends (see settle). */
  private readonly watchers = new Set<() => void>()

  constructor(options: TrainerHostOptions) {
    this.opts = {
      progressIntervalMs: 100,
      logLinesPerSecond: 20,
      readyTimeoutMs: 120_000,
      exitGraceMs: 5_000,
      ...options
    }
    this.logs = new LogLimiter(this.opts.logLinesPerSecond, (line) => this.opts.emit('train.log', line))
  }

  /** Queues a run (it starts at once when nothing else is training). */
  enqueue(runId: string, runDir: string): JobView {
    if (this.closed) throw new StudioError('busy', 'The studio is shutting down; training cannot start now.')
    if (this.find(runId)) throw new StudioError('busy', 'This run is already training or waiting in the queue.')
    let end!: (outcome: JobOutcome) => void
    const ended = new Promise<JobOutcome>((resolve) => (end = resolve))
    const job: Job = {
      jobId: `job-${this.nextJob++}`,
      runId,
      runDir,
      state: 'queued',
      session: null,
      pause: false,
      stop: false,
      step: null,
      ended,
      end
    }
    this.queue.push(job)
    if (this.current) {
      this.log(runId, 'info', `Queued: starts when the run training now finishes (${this.queue.length} waiting).`)
    }
    this.pump()
    return this.view(job)
  }

  /** The job for a run, if one is training or queued. */
  job(runId: string): JobView | null {
    const job = this.find(runId)
    return job ? this.view(job) : null
  }

  jobs(): JobView[] {
    return [...(this.current ? [this.current] : []), ...this.queue].map((j) => this.view(j))
  }

  /** The job training now (whatever its state), if any. */
  active(): JobView | null {
    return this.current ? this.view(this.current) : null
  }

  /**
   * Waits (at most `timeoutMs`) until the run's job satisfies `want` — e.g. the loop has
   * acknowledged a pause. The view is null once the job has ended. Never rejects.
   */
  async settle(runId: string, want: (view: JobView | null) => boolean, timeoutMs: number): Promise<void> {
    if (want(this.job(runId))) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.watchers.delete(check)
        resolve()
      }
      const check = (): void => {
        if (want(this.job(runId))) done()
      }
      const timer = setTimeout(done, timeoutMs)
      unref(timer)
      this.watchers.add(check)
    })
  }

  /** Resolves when the run's job ends; null when it has none. */
  whenEnded(runId: string): Promise<JobOutcome> | null {
    return this.find(runId)?.ended ?? null
  }

  /**
   * Pauses a run: the training loop checkpoints and waits. A queued run just leaves the queue
   * (it is `paused` on disk and resumes like any other). Returns false when the run has no job.
   */
  async pause(runId: string): Promise<boolean> {
    const job = this.find(runId)
    if (!job) return false
    if (job.state === 'queued') {
      await this.dequeue(job, 'paused')
      return true
    }
    if (job.state === 'stopping') return true
    job.pause = true
    job.session?.control(job.jobId, { pause: true })
    return true
  }

  /** Un-pauses a live job. Returns false when the run has no job to wake (start a new one instead). */
  resume(runId: string): boolean {
    const job = this.find(runId)
    if (!job) return false
    if (job.state === 'stopping') throw new StudioError('busy', 'This run is stopping; resume it once it has stopped.')
    job.pause = false
    job.session?.control(job.jobId, { pause: false })
    return true
  }

  /** Stops a run cooperatively (it checkpoints) and resolves when its job has ended. */
  async stop(runId: string): Promise<void> {
    const job = this.find(runId)
    if (!job) return
    if (job.state === 'queued') {
      await this.dequeue(job, 'stopped')
      return
    }
    this.requestStop(job)
    await job.ended
  }

  /**
   * Which compute backends work here and why the others do not; measured in a short-lived child so
   * the main process never loads tfjs. Cached until `refresh`.
   */
  async probeBackends(options: { refresh?: boolean; calibrate?: boolean } = {}): Promise<BackendStatus[]> {
    if (this.probeCache && !options.refresh && !options.calibrate) return this.probeCache
    if (!this.probing) {
      const input = options.calibrate ? { calibrate: true } : {}
      const conn = this.connect()
      this.probing = conn
        .start(`probe-${this.nextJob++}`, 'probe', input, () => undefined)
        .then((statuses) => {
          this.probeCache = statuses
          return statuses
        })
        .finally(() => {
          conn.release()
          this.probing = null
        })
    }
    return this.probing
  }

  /** The cached probe results, without starting one. */
  cachedBackends(): BackendStatus[] | null {
    return this.probeCache
  }

  /**
   * Stops everything: the queue is emptied (those runs stay resumable), the running job is asked to
   * stop (it checkpoints) and is killed if it has not ended after `timeoutMs`.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true
    for (const job of [...this.queue]) await this.dequeue(job, 'stopped')
    const job = this.current
    if (!job) return
    this.requestStop(job)
    const timeoutMs = options.timeoutMs ?? 120_000
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const outcome = await Promise.race([job.ended, timedOut])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      job.session?.kill()
      await job.ended
    }
  }

  // ---- internals ----

  private init(): TrainerInit {
    return { type: 'init', datasetsDir: this.opts.datasetsDir, backendCacheFile: this.opts.backendCacheFile, progressIntervalMs: this.opts.progressIntervalMs }
  }

  private connect(): ChildConnection {
    return new ChildConnection(this.opts.spawn, this.init(), {
      readyTimeoutMs: this.opts.readyTimeoutMs,
      exitGraceMs: this.opts.exitGraceMs,
      label: 'training process'
    })
  }

  private find(runId: string): Job | undefined {
    if (this.current?.runId === runId) return this.current
    return this.queue.find((j) => j.runId === runId)
  }

  private view(job: Job): JobView {
    const position = job === this.current ? 0 : this.queue.indexOf(job) + 1
    return { runId: job.runId, state: job.state, position, step: job.step }
  }

  private requestStop(job: Job): void {
    job.stop = true
    if (job.state !== 'starting') job.state = 'stopping'
    job.session?.control(job.jobId, { stop: true })
    this.notify()
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher()
  }

  private async dequeue(job: Job, status: 'paused' | 'stopped'): Promise<void> {
    const i = this.queue.indexOf(job)
    if (i < 0) return
    this.queue.splice(i, 1)
    try {
      await this.opts.store.updateRun(job.runDir, { status })
    } catch (err) {
      this.log(job.runId, 'warn', `Could not record the run as ${status}: ${describe(err)}`)
    }
    this.opts.emit('train.status', { runId: job.runId, status, error: null })
    job.end({ kind: 'cancelled' })
    this.notify()
  }

  private pump(): void {
    if (this.current || this.closed) return
    const job = this.queue.shift()
    if (!job) return
    this.current = job
    job.state = 'starting'
    const conn = this.connect()
    job.session = conn
    const input = { runDir: job.runDir }
    conn.start(job.jobId, 'train', input, (event) => this.onEvent(job, event)).then(
      (run) => {
        conn.release()
        void this.finish(job, { kind: 'done', run })
      },
      (err: unknown) => {
        conn.release()
        void this.finish(job, { kind: 'failed', error: toErrorShape(err) })
      }
    )
  }

  private onEvent(job: Job, event: JobEvent): void {
    switch (event.type) {
      case 'progress':
        if (job.state === 'starting') job.state = job.stop ? 'stopping' : 'running'
        job.step = event.progress.step
        this.opts.emit('train.progress', { ...event.progress, runId: job.runId })
        return
      case 'sample':
        this.opts.emit('train.sample', { ...event.sample, runId: job.runId })
        return
      case 'status':
        if (event.status === 'paused') job.state = job.stop ? 'stopping' : 'paused'
        else if (event.status === 'running') job.state = job.stop ? 'stopping' : 'running'
        else {
          // A final status (stopped, completed, failed) is said once the job has ended: until
          // then the run still reads as live, and a client that re-read it now would be told so.
          job.state = 'stopping'
          this.notify()
          return
        }
        this.opts.emit('train.status', { runId: job.runId, status: event.status, error: event.error })
        this.notify()
        return
      case 'log':
        this.logs.push({ ...event.line, runId: event.line.runId ?? job.runId })
        return
      case 'job-progress':
        return
    }
  }

  private async finish(job: Job, outcome: { kind: 'done'; run: RunJson } | { kind: 'failed'; error: StudioErrorShape }): Promise<void> {
    this.logs.flush()
    let final: RunJson | null = null
    try {
      if (outcome.kind === 'done') {
        final = outcome.run
        job.end(outcome)
      } else {
        job.end({ kind: 'failed', error: await this.recordFailure(job, outcome.error) })
      }
    } finally {
      if (this.current === job) this.current = null
      job.session = null
      // Said once the job is gone: a client that re-read the run while the job was still winding
      // down (and so saw it as training) learns its final state.
      if (final) this.opts.emit('train.status', { runId: job.runId, status: final.status, error: final.error })
      this.pump()
      this.notify()
    }
  }

  /** Makes sure run.json says `failed` with a reason, tells the UI, and returns the error shown. */
  private async recordFailure(job: Job, error: StudioErrorShape): Promise<StudioErrorShape> {
    const run: RunJson | null = await this.opts.store.readRun(job.runDir).catch(() => null)
    let shown = error
    if (run?.status === 'failed' && run.error) {
      // The training loop recorded its own reason (e.g. a diverged loss); keep it.
      shown = run.error
    } else {
      if (error.code === 'crashed' && run) {
        shown = {
          code: 'crashed',
          message:
            `${error.message} ` +
            (run.latestCheckpoint
              ? `Resume continues from its last checkpoint (step ${run.latestCheckpointStep}).`
              : 'It had no checkpoint yet; resuming starts again from step 0.')
        }
      }
      if (run) {
        try {
          await this.opts.store.updateRun(job.runDir, { status: 'failed', error: shown })
        } catch (err) {
          this.log(job.runId, 'warn', `Could not record the failure in run.json: ${describe(err)}`)
        }
      }
    }
    this.opts.emit('train.status', { runId: job.runId, status: 'failed', error: shown })
    this.log(job.runId, 'error', shown.message)
    return shown
  }

  private log(runId: string | null, level: LogLine['level'], message: string): void {
    this.logs.push({ runId, level, message, time: new Date().toISOString() })
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
