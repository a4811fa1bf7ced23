import type { BackendStatus, LogLine, TrainProgress } from '@shared/contract'
import { StudioError, type StudioErrorShape, toErrorShape } from '@shared/errors'
import type { RunJson, RunStatus } from '@shared/runs'
import type { TrainerEvent } from '../trainer/events'
import { mergeProgress, type ChildMessage, type HostMessage, type JobMethod, type JobMethods, type TrainerInit } from '../trainer/protocol'
import type { EventSink } from './events'

/**
 * The trainer host: runs training jobs one at a time, each in its own trainer child (an Electron
 * utility process in the desktop app, a plain Node child under `serve`, an in-memory port in tests),
 * queues the rest, forwards the child's events as contract events (progress throttled), passes
 * pause/resume/stop through as cooperative flags, and turns a child that dies into a run marked
 * `failed` with the reason — resumable from its last checkpoint.
 */

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
  /** At most one progress event per run per this many ms (default 100: ≤ 10/s). */
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
  session: ChildSession<'train'> | null
  pause: boolean
  stop: boolean
  lastStatus: RunStatus | null
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
  private readonly progress: ProgressThrottle
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
    this.progress = new ProgressThrottle(this.opts.progressIntervalMs, (p) => this.opts.emit('train.progress', p))
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
      lastStatus: null,
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
    job.session?.control({ pause: true })
    return true
  }

  /** Un-pauses a live job. Returns false when the run has no job to wake (start a new one instead). */
  resume(runId: string): boolean {
    const job = this.find(runId)
    if (!job) return false
    if (job.state === 'stopping') throw new StudioError('busy', 'This run is stopping; resume it once it has stopped.')
    job.pause = false
    job.session?.control({ pause: false })
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
      const session = new ChildSession(this.opts.spawn, this.init(), `probe-${this.nextJob++}`, 'probe', input, {
        onEvent: () => undefined,
        readyTimeoutMs: this.opts.readyTimeoutMs,
        exitGraceMs: this.opts.exitGraceMs
      })
      this.probing = session.result
        .then((statuses) => {
          this.probeCache = statuses
          return statuses
        })
        .finally(() => {
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
    return { type: 'init', datasetsDir: this.opts.datasetsDir, backendCacheFile: this.opts.backendCacheFile }
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
    job.session?.control({ stop: true })
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
    const session = new ChildSession(
      this.opts.spawn,
      this.init(),
      job.jobId,
      'train',
      { runDir: job.runDir },
      {
        onEvent: (event) => this.onEvent(job, event),
        readyTimeoutMs: this.opts.readyTimeoutMs,
        exitGraceMs: this.opts.exitGraceMs,
        initialControl: () => ({ pause: job.pause, stop: job.stop })
      }
    )
    job.session = session
    session.result.then(
      (run) => this.finish(job, { kind: 'done', run }),
      (err: unknown) => this.finish(job, { kind: 'failed', error: toErrorShape(err) })
    )
  }

  private onEvent(job: Job, event: TrainerEvent): void {
    switch (event.type) {
      case 'progress':
        if (job.state === 'starting') job.state = job.stop ? 'stopping' : 'running'
        job.step = event.progress.step
        this.progress.push(job.runId, { ...event.progress, runId: job.runId })
        return
      case 'sample':
        this.progress.flush(job.runId)
        this.opts.emit('train.sample', { ...event.sample, runId: job.runId })
        return
      case 'status':
        this.progress.flush(job.runId)
        job.lastStatus = event.status
        if (event.status === 'paused') job.state = job.stop ? 'stopping' : 'paused'
        else if (event.status === 'running') job.state = job.stop ? 'stopping' : 'running'
        this.opts.emit('train.status', { runId: job.runId, status: event.status, error: event.error })
        this.notify()
        return
      case 'log':
        this.logs.push({ ...event.line, runId: event.line.runId ?? job.runId })
        return
    }
  }

  private async finish(job: Job, outcome: { kind: 'done'; run: RunJson } | { kind: 'failed'; error: StudioErrorShape }): Promise<void> {
    this.progress.flush(job.runId)
    this.logs.flush()
    try {
      if (outcome.kind === 'done') {
        const run = outcome.run
        if (job.lastStatus !== run.status) {
          this.opts.emit('train.status', { runId: job.runId, status: run.status, error: run.error })
        }
        job.end(outcome)
      } else {
        job.end({ kind: 'failed', error: await this.recordFailure(job, outcome.error) })
      }
    } finally {
      this.progress.forget(job.runId)
      if (this.current === job) this.current = null
      job.session = null
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

interface SessionOptions {
  onEvent: (event: TrainerEvent) => void
  readyTimeoutMs: number
  exitGraceMs: number
  /** Flags to send right after the job starts (set while the child was still loading). */
  initialControl?: () => { pause: boolean; stop: boolean }
}

/** One child, one job: spawn, handshake (`ready` → `init` → `job`), stream events, settle once. */
class ChildSession<M extends JobMethod> {
  readonly result: Promise<JobMethods[M]['output']>
  private link: TrainerLink | null = null
  private started = false
  private settled = false
  private exited = false
  private fatal: StudioErrorShape | null = null
  private readyTimer: ReturnType<typeof setTimeout> | null = null
  private exitTimer: ReturnType<typeof setTimeout> | null = null

  constructor(
    spawn: SpawnTrainer,
    init: TrainerInit,
    private readonly jobId: string,
    method: M,
    input: JobMethods[M]['input'],
    options: SessionOptions
  ) {
    this.result = new Promise<JobMethods[M]['output']>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        if (this.settled) return
        this.settled = true
        if (this.readyTimer) clearTimeout(this.readyTimer)
        fn()
        this.release(options.exitGraceMs)
      }
      let link: TrainerLink
      try {
        link = spawn()
      } catch (err) {
        settle(() => reject(new StudioError('crashed', `The training process could not start: ${describe(err)}`)))
        return
      }
      this.link = link
      this.readyTimer = setTimeout(() => {
        settle(() => reject(new StudioError('crashed', 'The training process did not start in time.')))
        link.kill()
      }, options.readyTimeoutMs)
      unref(this.readyTimer)

      link.onMessage((message) => {
        if (this.settled) return
        switch (message.type) {
          case 'ready': {
            if (this.started) return
            this.started = true
            if (this.readyTimer) clearTimeout(this.readyTimer)
            this.send(init)
            this.send({ type: 'job', jobId, method, input } as HostMessage)
            const flags = options.initialControl?.()
            if (flags && (flags.pause || flags.stop)) this.control(flags)
            return
          }
          case 'event':
            if (message.jobId === jobId) options.onEvent(message.event)
            return
          case 'done':
            if (message.jobId === jobId) settle(() => resolve(message.output as JobMethods[M]['output']))
            return
          case 'failed':
            if (message.jobId === jobId) settle(() => reject(new StudioError(message.error.code, message.error.message)))
            return
          case 'fatal':
            this.fatal = message.error
            return
        }
      })
      link.onExit((exit) => {
        this.exited = true
        if (this.exitTimer) clearTimeout(this.exitTimer)
        settle(() => reject(new StudioError('crashed', describeExit(exit, this.fatal))))
      })
    })
    // Callers attach their own handlers; this keeps an unobserved rejection from being reported twice.
    this.result.catch(() => undefined)
  }

  control(flags: { pause?: boolean; stop?: boolean }): void {
    if (!this.started || this.settled) return
    this.send({ type: 'control', jobId: this.jobId, ...flags })
  }

  kill(): void {
    this.link?.kill()
  }

  private send(message: HostMessage): void {
    try {
      this.link?.send(message)
    } catch {
      // The child is gone; its exit settles the session.
    }
  }

  /** After the job: ask the child to exit, and kill it if it lingers. */
  private release(graceMs: number): void {
    if (this.exited || !this.link) return
    this.send({ type: 'exit' })
    this.exitTimer = setTimeout(() => this.link?.kill(), graceMs)
    unref(this.exitTimer)
  }
}

/** A sentence for a trainer child that ended without finishing its job. Pure. */
export function describeExit(exit: ChildExit, fatal: StudioErrorShape | null = null): string {
  const tail = exit.stderrTail ?? ''
  const isOom = (text: string): boolean =>
    /heap out of memory|Reached heap limit|Allocation failed|out of memory|std::bad_alloc/i.test(text) || /\bOOM\b/.test(text)
  if (exit.reason === 'oom' || isOom(tail) || (fatal !== null && isOom(fatal.message))) {
    return 'The training process ran out of memory. Try a smaller batch size, resolution or model width.'
  }
  if (fatal) return `The training process crashed: ${fatal.message}`
  if (exit.signal === 'SIGKILL' || exit.reason === 'killed') {
    return 'The training process was killed (SIGKILL); the system may have run out of memory.'
  }
  if (exit.signal) return `The training process was ended by ${exit.signal}.`
  if (exit.reason && exit.reason !== 'clean-exit') return `The training process crashed (${exit.reason}${exit.code !== null ? `, code ${exit.code}` : ''}).`
  if (exit.code !== null && exit.code !== 0) return `The training process exited unexpectedly (code ${exit.code}).`
  return 'The training process exited before finishing its job.'
}

/**
 * At most one progress event per run per interval — the newest wins and the last is never lost —
 * except that every logged metric reaches the charts (mergeProgress).
 */
class ProgressThrottle {
  private readonly state = new Map<string, { last: number; pending: TrainProgress | null; timer: ReturnType<typeof setTimeout> | null }>()

  constructor(
    private readonly intervalMs: number,
    private readonly send: (progress: TrainProgress) => void
  ) {}

  push(runId: string, progress: TrainProgress): void {
    let s = this.state.get(runId)
    if (!s) this.state.set(runId, (s = { last: -Infinity, pending: null, timer: null }))
    const merged = mergeProgress(s.pending, progress)
    if (merged.send) this.send(merged.send)
    s.pending = merged.pending
    const wait = s.last + this.intervalMs - Date.now()
    if (wait <= 0) this.flush(runId)
    else if (!s.timer) {
      s.timer = setTimeout(() => this.flush(runId), wait)
      unref(s.timer)
    }
  }

  flush(runId: string): void {
    const s = this.state.get(runId)
    if (!s) return
    if (s.timer) clearTimeout(s.timer)
    s.timer = null
    if (!s.pending) return
    const progress = s.pending
    s.pending = null
    s.last = Date.now()
    this.send(progress)
  }

  forget(runId: string): void {
    this.flush(runId)
    this.state.delete(runId)
  }
}

/** Forwards at most `perSecond` log lines a second; says how many it skipped. */
class LogLimiter {
  private windowStart = 0
  private count = 0
  private skipped = 0
  private lastRunId: string | null = null

  constructor(
    private readonly perSecond: number,
    private readonly send: (line: LogLine) => void
  ) {}

  push(line: LogLine): void {
    const now = Date.now()
    if (now - this.windowStart >= 1000) {
      this.flush()
      this.windowStart = now
      this.count = 0
    }
    if (this.count < this.perSecond || line.level === 'error') {
      this.count++
      this.send(line)
    } else {
      this.skipped++
      this.lastRunId = line.runId
    }
  }

  flush(): void {
    if (this.skipped === 0) return
    const skipped = this.skipped
    this.skipped = 0
    this.send({ runId: this.lastRunId, level: 'info', message: `(${skipped} log lines skipped)`, time: new Date().toISOString() })
  }
}


function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function unref(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
